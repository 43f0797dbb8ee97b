import { type Command, Option } from "commander";
import { ROLES } from "../worker/types.js";

const collect = (value: string, all: string[] = []) => [...all, value];

/** Adds the context pack and template flags that `spawn` and `run` share. */
export function addPromptOptions(command: Command): Command {
  return command
    .option("--context <file>", "a context pack (YAML or Markdown) rendered into every worker prompt")
    .option("--goal <text>", "context pack: what good looks like")
    .option("--non-goal <text>", "context pack: what not to do (repeatable)", collect)
    .option("--constraint <text>", "context pack: a constraint (repeatable)", collect)
    .option("--pointer <path>", "context pack: a key file or folder, which must exist (repeatable)", collect)
    .option("--decision <text>", "context pack: a prior decision (repeatable)", collect)
    .option("--success <text>", "context pack: how we know it is done")
    .addOption(
      new Option(
        "--template <role=file>",
        `replace a role's template with your file (repeatable); roles: ${ROLES.join(", ")}`,
      ).argParser(collect),
    );
}
