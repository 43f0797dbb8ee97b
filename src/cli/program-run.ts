import { CommanderError } from "commander";
import { writeErr } from "./context.js";
import { exitCodeOf } from "./failure.js";
import { buildProgram, CommandLineError } from "./program.js";

/** Runs a command line through commander and the whole program; resolves with the exit code. */
export async function runProgram(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (!(error instanceof CommanderError)) return exitCodeOf(error);
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
}
