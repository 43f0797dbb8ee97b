// Builds Baton's two native programs (`npm run build`, and `npm install` of the package), each compiled
// with the machine's C compiler:
// - dist/cli/baton, the `baton` bin: the native client (native/baton.c), which runs the orchestrator's
//   quick commands without starting Node and hands every other command to dist/cli/main.js. Where no
//   compiler works, or with --portable (a package to ship), it is a two-line shell script that runs
//   dist/cli/main.js: the same commands, at Node's speed.
// - dist/native/baton-launch (native/launch.c), how the supervisor starts an agent in one exec. Where
//   no compiler works, or with --portable, there is none, and the supervisor starts agents through
//   `sh` and `env` as it did before: the same workers, about 1.4 ms more CPU each.
// - dist/native/baton-spawn (native/spawn.c), which starts the supervisor's agents so that it does
//   not fork itself. Where none was built, the supervisor forks (node-pty): the same workers, 1 to 3 ms
//   more of its CPU each.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "dist/cli/baton");
const LAUNCH = join(ROOT, "dist/native/baton-launch");
const SPAWN = join(ROOT, "dist/native/baton-spawn");
const PORTABLE = process.argv.includes("--portable");

const LAUNCHER = '#!/bin/sh\nexec node "$(dirname "$(readlink -f "$0")")/main.js" "$@"\n';

if (!existsSync(join(ROOT, "dist/cli/main.js"))) process.exit(0); // a fresh clone's install: the build comes later

/** Compiles `source` into `target`, whole or not at all; false when no compiler could. */
function compile(source, target) {
  mkdirSync(dirname(target), { recursive: true });
  const next = `${target}.${process.pid}`;
  for (const cc of [process.env.CC, "cc", "gcc", "clang"].filter(Boolean)) {
    try {
      execFileSync(cc, ["-O2", "-std=c11", "-Wall", "-Wextra", "-o", next, join(ROOT, source)], { stdio: "pipe" });
      renameSync(next, target);
      return true;
    } catch {
      rmSync(next, { force: true });
    }
  }
  return false;
}

if (PORTABLE || !compile("native/baton.c", BIN)) {
  const next = `${BIN}.${process.pid}`;
  writeFileSync(next, LAUNCHER, { mode: 0o755 });
  renameSync(next, BIN);
  if (!PORTABLE) {
    process.stderr.write("baton: no C compiler built the native client: `baton` runs every command with Node\n");
  }
}
chmodSync(BIN, 0o755);

// A shipped package must not carry a program built for the packing machine: the user's install builds its own.
if (PORTABLE) rmSync(LAUNCH, { force: true });
else if (!compile("native/launch.c", LAUNCH)) {
  rmSync(LAUNCH, { force: true });
  process.stderr.write("baton: no C compiler built the agent launcher: agents start through bash and env\n");
}
if (PORTABLE) rmSync(SPAWN, { force: true });
else if (!compile("native/spawn.c", SPAWN)) {
  rmSync(SPAWN, { force: true });
  process.stderr.write("baton: no C compiler built the agent spawner: the supervisor forks for each agent\n");
}
