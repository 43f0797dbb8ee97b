import type { Command } from "commander";
import { MAX_GRACE_SECONDS, MAX_PARALLEL_LIMIT } from "../../protocol/limits.js";
import { type GlobalOptions, nonNegativeNumber, positiveInteger } from "../context.js";

// What each command does is in ../actions/control.ts, loaded only when one of them runs.
const actions = () => import("../actions/control.js");

export function registerControl(program: Command, global: () => GlobalOptions): void {
  program
    .command("send")
    .description("type text into a worker's terminal, then Enter")
    .argument("<id>", "worker id")
    .argument("<text>", "what to type")
    .option("--no-enter", "do not press Enter after the text")
    .action(async (id: string, text: string, opts) => (await actions()).send(global(), id, text, opts));

  program
    .command("interrupt")
    .description("send Ctrl+C to a worker's terminal")
    .argument("<id>", "worker id")
    .action(async (id: string) => (await actions()).interrupt(global(), id));

  program
    .command("stop")
    .description(
      "stop workers: Ctrl+C, then SIGTERM, then SIGKILL to all their processes after the grace period",
    )
    .argument("[ids...]", "worker ids")
    .option("--all", "stop every unfinished worker")
    .option(
      "--grace <seconds>",
      "how long each step waits (default 3)",
      nonNegativeNumber("--grace", MAX_GRACE_SECONDS),
    )
    .option("--json", "print JSON")
    .action(async (ids: string[], opts) => (await actions()).stop(global(), ids, opts));

  program
    .command("config")
    .description("show the workspace's settings, or change them")
    .option(
      "--max-parallel <n>",
      "workers that may run at once; the rest queue (default 8)",
      positiveInteger("--max-parallel", MAX_PARALLEL_LIMIT),
    )
    .option(
      "--backend <name>",
      "the backend workers run on when neither the spawn nor the run names one: codex, claude, gemini, acp:gemini, ..., or a named agent (default codex); kept in .baton/config.json",
    )
    .option(
      "--agent <name>",
      "add or replace a named agent, usable wherever a backend's name is (--backend NAME, --lens L=NAME, a workflow step, the MCP tools): give its program with --cmd LINE or --agent-cmd LINE",
    )
    .option("--cmd <line>", "with --agent: the named agent is this program (the command backend)")
    .option("--agent-cmd <line>", "with --agent: the named agent is this ACP agent (the acp backend)")
    .option("--remove-agent <name>", "remove one of this workspace's named agents")
    .option(
      "--redis <url>",
      "run the workspace's workers on hosts, from a BullMQ queue on this Redis (prints the key to start hosts with; see docs/scale-out.md)",
    )
    .option(
      "--git-remote <url>",
      "with --redis: hosts check out the workspace's commit from this git remote instead of sharing its folder; a writer's change comes back as a branch",
    )
    .option(
      "--shared-folder",
      "with --redis: hosts use the workspace's folder at the same path (the default)",
    )
    .option("--json", "print the settings as JSON")
    .addHelpText(
      "after",
      "\nWith no option it prints the settings. A spawn's or a run's --backend overrides the workspace's.\n" +
        "Named agents are kept in .baton/config.json, and for every workspace in $XDG_CONFIG_HOME/baton/config.json\n" +
        "(else ~/.config/baton/config.json, {\"agents\": {...}}); the workspace's wins over the user's of the same name.\n" +
        '  baton config --agent lint --cmd "./scripts/lint-agent.sh --strict"\n' +
        '  baton spawn --backend lint "Check src/"',
    )
    .action(async (opts) => (await actions()).configure(global(), opts));

  program
    .command("shutdown")
    .description("stop every worker and the workspace's supervisor")
    .action(async () => (await actions()).shutdown(global()));

  program
    .command("supervisor")
    .description("run the workspace's supervisor in the foreground (normally it starts by itself)")
    .action(async () => (await actions()).supervisor(global()));
}
