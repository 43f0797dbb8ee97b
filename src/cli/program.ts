import { Command } from "commander";
import { registerControl } from "./commands/control.js";
import { registerInspect } from "./commands/inspect.js";
import { registerMcp } from "./commands/mcp.js";
import { registerPlan } from "./commands/plan.js";
import { registerResume } from "./commands/resume.js";
import { registerRun } from "./commands/run.js";
import { registerSkill } from "./commands/skill.js";
import { registerSpawn } from "./commands/spawn.js";
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
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  registerSpawn(program, global);
  registerInspect(program, global);
  registerControl(program, global);
  registerPlan(program, global);
  registerRun(program, global);
  registerResume(program, global);
  registerMcp(program, global);
  registerSkill(program);
  const quiet = (command: Command) => {
    command.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
    command.commands.forEach(quiet);
  };
  program.commands.forEach(quiet);
  return program;
}
