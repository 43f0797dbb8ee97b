import { Command, CommanderError } from "commander";
import { registerControl } from "./commands/control.js";
import { registerHost } from "./commands/host.js";
import { registerInspect } from "./commands/inspect.js";
import { registerMcp } from "./commands/mcp.js";
import { registerPlan } from "./commands/plan.js";
import { registerResume } from "./commands/resume.js";
import { registerRun } from "./commands/run.js";
import { registerSkill } from "./commands/skill.js";
import { registerSpawn } from "./commands/spawn.js";
import { registerTop } from "./commands/top.js";
import { registerTry } from "./commands/try.js";
import { registerUi } from "./commands/ui.js";
import { registerWatch } from "./commands/watch.js";
import type { GlobalOptions } from "./context.js";

export const VERSION = "0.1.0";

/** The `baton` command line: a thin layer over the library API. */
export function buildProgram(): Command {
  const program = new Command("baton")
    .description(
      "Run coding-agent workers in parallel, each in its own terminal, and collect what each concluded.",
    )
    .version(VERSION)
    .option(
      "--home <dir>",
      "the run store (default: BATON_HOME, else the nearest .baton folder, else ./.baton)",
    )
    .showSuggestionAfterError(true);
  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  registerSpawn(program, global);
  registerInspect(program, global);
  registerControl(program, global);
  registerPlan(program, global);
  registerRun(program, global);
  registerResume(program, global);
  registerWatch(program, global);
  registerTop(program, global);
  registerMcp(program, global);
  registerSkill(program);
  registerTry(program);
  registerUi(program, global);
  registerHost(program, global);
  quiet(program);
  return program;
}

/** A command-line mistake commander found, with the command it was found in. */
export class CommandLineError extends CommanderError {
  constructor(
    error: CommanderError,
    /** The command as typed, e.g. `baton result`, whose `--help` the message points at. */
    readonly path: string,
  ) {
    super(error.exitCode, error.code, error.message);
  }
}

/**
 * Errors are printed by main(), as one line naming the command. Help that commander shows on its own
 * (a group typed alone: `baton`, `baton skill`) goes to stdout, as `--help` does.
 */
function quiet(command: Command): void {
  command
    .exitOverride((error) => {
      throw new CommandLineError(error, pathOf(command));
    })
    .configureOutput({ writeErr: (text) => process.stdout.write(text), outputError: () => {} });
  command.commands.forEach(quiet);
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}
