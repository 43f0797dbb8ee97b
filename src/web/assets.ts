import { readFile } from "node:fs/promises";
import { BatonError } from "../errors.js";

// The page: static files in src/web/page/, which the build copies to dist/web/page/ beside this
// module. No framework, no bundler: one HTML page, one stylesheet, one plain JavaScript module, all
// served from the dashboard's own origin, as its Content-Security-Policy requires.

/** A file of the page, read once when the dashboard starts. */
export interface Asset {
  readonly type: string;
  readonly body: string;
}

const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** The page's files by name; a usage error naming the fix if the build left them out. */
export async function loadAssets(): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    const url = new URL(`./page/${name}`, import.meta.url);
    try {
      assets.set(name, { type, body: await readFile(url, "utf8") });
    } catch {
      throw new BatonError(
        "usage",
        `the dashboard's page is missing (${url.pathname}): build Baton again with \`npm run build\``,
      );
    }
  }
  return assets;
}
