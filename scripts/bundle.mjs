// Bundles the CLI after tsc (`npm run build`): from dist/cli/baton.js (src/cli/baton.ts) it writes
// dist/cli/main.js, the `baton` bin, one file that holds what every command registers, and each
// command's code as a chunk in dist/cli/bundle/, loaded only when that command runs.
// Node then resolves and reads a handful of files at start-up instead of a hundred. The library
// (dist/index.js), the supervisor (dist/supervisor/main.js) and the rest of dist/ stay as tsc wrote them.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const ENTRY = join(DIST, "cli/baton.js");
const CHUNKS = join(DIST, "cli/bundle");

// A module that finds files next to itself (the supervisor's entry, the skill, package.json) does so by
// import.meta.url. In a chunk that URL is the chunk's: rewrite it to the URL of the file tsc wrote, as
// seen from the chunks' folder, and check below that every such module did land in that folder.
const rewritten = new Set();
const moduleUrls = {
  name: "module-urls",
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("import.meta.url")) return undefined;
      rewritten.add(relative(ROOT, args.path));
      const own = JSON.stringify(relative(CHUNKS, args.path));
      return {
        contents: text.replaceAll("import.meta.url", `new URL(${own}, import.meta.url).href`),
        loader: "js",
      };
    });
  },
};

const result = await build({
  entryPoints: { main: ENTRY },
  outdir: join(DIST, "cli"),
  chunkNames: "bundle/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Every package stays external but commander, which every command loads: bundled, it costs one
  // compile instead of the CommonJS loader and its ESM wrapper.
  // Ink and React (only `baton top` loads them) stay as npm installed them: Ink imports its devtools
  // only when asked for, from a package that is not installed.
  // BullMQ and ioredis (only `baton host` and a workspace on a queue load them) likewise.
  external: ["zod", "yaml", "@modelcontextprotocol/*", "@lydell/node-pty", "ink", "react", "bullmq", "ioredis"],
  // commander is CommonJS and requires Node's own modules.
  banner: {
    js: 'import { createRequire as batonRequire } from "node:module"; const require = batonRequire(import.meta.url);',
  },
  metafile: true,
  logLevel: "warning",
  plugins: [moduleUrls],
});

for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  const misplaced = Object.keys(inputs).filter((input) => rewritten.has(input));
  if (misplaced.length > 0 && dirname(join(ROOT, output)) !== CHUNKS) {
    throw new Error(
      `${misplaced.join(", ")} use import.meta.url but were bundled into ${output}, outside ${relative(ROOT, CHUNKS)}: load them with a dynamic import`,
    );
  }
}

// Chunks of earlier builds go once they are a few minutes old: a `baton` started just before this build
// may still load one of them.
const current = new Set(Object.keys(result.metafile.outputs).map((output) => join(ROOT, output)));
for (const name of readdirSync(CHUNKS)) {
  const file = join(CHUNKS, name);
  if (!current.has(file) && Date.now() - statSync(file).mtimeMs > 10 * 60_000) rmSync(file, { force: true });
}
