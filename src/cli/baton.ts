#!/usr/bin/env node
import { quickLine } from "./quick-argv.js";

// `baton ls`, `result`, `poll` and `spawn` go by the quick path (quick.ts, quick-spawn.ts), every
// other command line through commander (program-run.ts); each failure becomes one line on stderr and a
// non-zero exit, never a stack trace.

// A reader that stops early (`baton logs w1 | head`) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
});

async function main(argv: readonly string[]): Promise<number> {
  const line = quickLine(argv);
  const quick =
    line === undefined
      ? undefined
      : line.command === "spawn"
        ? await (await import("./quick-spawn.js")).runQuickSpawn(line)
        : await (await import("./quick.js")).runQuick(line);
  return quick ?? (await import("./program-run.js")).runProgram(argv);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
