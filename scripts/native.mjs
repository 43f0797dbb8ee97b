// Builds dist/cli/baton, the `baton` bin (`npm run build`, and `npm install` of the package): the native
// client (native/baton.c), compiled with the machine's C compiler, which runs the orchestrator's quick
// commands without starting Node and hands every other command to dist/cli/main.js. Where no compiler
// works, or with --portable (a package to ship), dist/cli/baton is a two-line shell script that runs
// dist/cli/main.js: the same commands, at Node's speed.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "dist/cli/baton");
const SOURCE = join(ROOT, "native/baton.c");

const LAUNCHER = '#!/bin/sh\nexec node "$(dirname "$(readlink -f "$0")")/main.js" "$@"\n';

if (!existsSync(join(ROOT, "dist/cli/main.js"))) process.exit(0); // a fresh clone's install: the build comes later

function compile() {
  const next = `${BIN}.${process.pid}`;
  for (const cc of [process.env.CC, "cc", "gcc", "clang"].filter(Boolean)) {
    try {
      execFileSync(cc, ["-O2", "-std=c11", "-Wall", "-Wextra", "-o", next, SOURCE], { stdio: "pipe" });
      renameSync(next, BIN); // whole, or not at all
      return true;
    } catch {
      rmSync(next, { force: true });
    }
  }
  return false;
}

if (process.argv.includes("--portable") || !compile()) {
  const next = `${BIN}.${process.pid}`;
  writeFileSync(next, LAUNCHER, { mode: 0o755 });
  renameSync(next, BIN);
  if (!process.argv.includes("--portable")) {
    process.stderr.write("baton: no C compiler built the native client: `baton` runs every command with Node\n");
  }
}
chmodSync(BIN, 0o755);
