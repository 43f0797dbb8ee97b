#!/usr/bin/env node
import { CommanderError } from "commander";
import { isBatonError } from "../errors.js";
import { ExitWith, writeErr } from "./context.js";
import { buildProgram } from "./program.js";

/** Runs the CLI; every failure becomes one line on stderr and a non-zero exit, never a stack trace. */
async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof ExitWith) {
      if (error.message) writeErr(`baton: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      const message = error.message.replace(/^error: /, "").split("\n")[0];
      writeErr(`baton: ${message} (see \`baton --help\`)\n`);
      return 2;
    }
    if (isBatonError(error)) {
      writeErr(`baton: ${error.message}\n`);
      return error.code === "usage" ? 2 : 1;
    }
    writeErr(`baton: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

// A reader that stops early (`baton logs w1 | head`) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
