#!/usr/bin/env node
import { CommanderError } from "commander";
import { isBatonError } from "../errors.js";
import { ExitWith, writeErr } from "./context.js";
import { buildProgram, CommandLineError } from "./program.js";

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
      // --help, --version, and the help a group typed alone prints (`baton`, `baton skill`)
      if (error.exitCode === 0 || error.code === "commander.help") return 0;
      const message = (error.message.replace(/^error: /, "").split("\n")[0] ?? "").replace(
        /^missing required argument/,
        "missing argument",
      );
      const path = error instanceof CommandLineError ? error.path : "baton";
      writeErr(`baton: ${message} (see \`${path} --help\`)\n`);
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
