// Bundles the CLI after tsc (`npm run build`): from dist/cli/baton.js (src/cli/baton.ts) it writes
// dist/cli/main.js, the `baton` bin, which only picks a path: the quick path (`ls`, `result`, `poll`:
// src/cli/quick.ts) is one file, dist/cli/bundle/quick.js; the full program (commander, what every
// command registers) is a chunk, and each command's code another, in dist/cli/bundle/, loaded only when
// that command runs. Node then resolves and reads a handful of files at start-up instead of a hundred.
// The library (dist/index.js), the supervisor (dist/supervisor/main.js) and the rest of dist/ stay as
// tsc wrote them.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const ENTRY = join(DIST, "cli/baton.js");
const CHUNKS = join(DIST, "cli/bundle");
const QUICK = join(DIST, "cli/quick.js");
const QUICK_SPAWN = join(DIST, "cli/quick-spawn.js");

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

// main.js loads the quick path's own bundles, built below, rather than chunks of this build.
const quickApart = {
  name: "quick-apart",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\/quick(-spawn)?\.js$/ }, (args) =>
      args.importer === ENTRY
        ? { path: `./${relative(dirname(ENTRY), join(CHUNKS, basename(args.path)))}`, external: true }
        : undefined,
    );
  },
};

// Every package stays external but commander, which every command loads: bundled, it costs one
// compile instead of the CommonJS loader and its ESM wrapper.
// Ink and React (only `baton top` loads them) stay as npm installed them: Ink imports its devtools
// only when asked for, from a package that is not installed.
// BullMQ and ioredis (only `baton host` and a workspace on a queue load them) likewise.
const EXTERNAL = ["zod", "yaml", "@modelcontextprotocol/*", "@lydell/node-pty", "ink", "react", "bullmq", "ioredis"];

const result = await build({
  entryPoints: { main: ENTRY },
  outdir: join(DIST, "cli"),
  chunkNames: "bundle/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  // commander is CommonJS and requires Node's own modules.
  banner: {
    js: 'import { createRequire as batonRequire } from "node:module"; const require = batonRequire(import.meta.url);',
  },
  metafile: true,
  logLevel: "warning",
  plugins: [moduleUrls, quickApart],
});

// The quick path, whole in one file: it and everything it imports, the client included (one file to
// resolve, read and compile rather than some thirty chunks), and the codex backend, whose parser `poll`
// of a worker of the default backend needs. What else it imports only at need (another backend's
// parser, the plan code for `ls` when there is a plan) it loads as the chunk that the build above made
// of that module, so that no schema library is bundled into it.
// `baton spawn` (quick-spawn.js) likewise, with the code of several tasks and of --wait.
const INLINE = new Set([
  "dist/client/baton.js",
  "dist/transcript/for-backend.js",
  "dist/backend/codex.js",
  "dist/cli/actions/spawn-tasks.js",
  "dist/roles/index.js",
]);
const chunkOf = new Map(
  Object.entries(result.metafile.outputs)
    .filter(([, output]) => output.entryPoint)
    .map(([file, output]) => [output.entryPoint, join(ROOT, file)]),
);
const lazyChunks = {
  name: "lazy-chunks",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const module = relative(ROOT, resolve(args.resolveDir, args.path));
      if (INLINE.has(module)) return undefined;
      const chunk = chunkOf.get(module);
      if (!chunk || dirname(chunk) !== CHUNKS) {
        return { errors: [{ text: `${module}, imported by the quick path, has no chunk of its own in ${CHUNKS}` }] };
      }
      return { path: `./${basename(chunk)}`, external: true };
    });
  },
};
const quick = await build({
  entryPoints: { quick: QUICK, "quick-spawn": QUICK_SPAWN },
  outdir: CHUNKS,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  metafile: true,
  logLevel: "warning",
  plugins: [moduleUrls, lazyChunks],
});
// The one package the quick path may hold: get-east-asian-width (9 KB, no dependencies of its own), which
// `ls` needs to pad its table by terminal columns.
const QUICK_PACKAGES = ["node_modules/get-east-asian-width/"];
const bundledPackages = Object.keys(quick.metafile.inputs).filter(
  (input) => input.includes("node_modules/") && !QUICK_PACKAGES.some((allowed) => input.includes(allowed)),
);
if (bundledPackages.length > 0) {
  throw new Error(`a quick path bundle bundles ${bundledPackages[0]}: the quick path should import no package`);
}

for (const [output, { inputs }] of Object.entries({ ...result.metafile.outputs, ...quick.metafile.outputs })) {
  const misplaced = Object.keys(inputs).filter((input) => rewritten.has(input));
  if (misplaced.length > 0 && dirname(join(ROOT, output)) !== CHUNKS) {
    throw new Error(
      `${misplaced.join(", ")} use import.meta.url but were bundled into ${output}, outside ${relative(ROOT, CHUNKS)}: load them with a dynamic import`,
    );
  }
}

// Chunks of earlier builds go once they are a few minutes old: a `baton` started just before this build
// may still load one of them.
const current = new Set(
  [...Object.keys(result.metafile.outputs), ...Object.keys(quick.metafile.outputs)].map((output) => join(ROOT, output)),
);
for (const name of readdirSync(CHUNKS)) {
  const file = join(CHUNKS, name);
  if (!current.has(file) && Date.now() - statSync(file).mtimeMs > 10 * 60_000) rmSync(file, { force: true });
}
