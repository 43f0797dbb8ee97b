import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import { type GlobalOptions, positiveInteger } from "../context.js";

// What `baton host` does is in ../actions/host.ts, loaded only when it runs (with BullMQ and Redis).

export function registerHost(program: Command, global: () => GlobalOptions): void {
  program
    .command("host")
    .description("run workers of a workspace on the queue from this machine, until Ctrl+C")
    .option(
      "--redis <url>",
      "the workspace's Redis: redis://[:PASSWORD@]HOST:PORT, rediss:// for TLS (default: BATON_REDIS_URL)",
    )
    .option(
      "--workspace <key>",
      "the workspace key that `baton config --redis` printed: only its jobs are taken",
      (value: string) => {
        if (!/^[0-9a-f]{24}$/.test(value)) {
          throw new BatonError(
            "usage",
            `--workspace must be the 24 hex digits \`baton config --redis\` printed, got "${value}"`,
          );
        }
        return value;
      },
    )
    .option("--slots <n>", "workers run at once (default 4)", positiveInteger("--slots", 256))
    .option("--name <name>", "how `baton ls` names this host (default: the machine's name)")
    .option(
      "--lock-ms <ms>",
      "a job's lock without renewal: a host that dies is noticed within about twice this (default 15000)",
      positiveInteger("--lock-ms", 600_000),
    )
    .addHelpText(
      "after",
      `
The host keeps its own store (--home; default ~/.local/state/baton/hosts/KEY), runs each worker there
under its own supervisor exactly as a local one (sandbox, watchdogs, budgets), with the agent CLIs and
keys of this machine's environment, and sends its output and result back through Redis. Put the
password in BATON_REDIS_URL rather than on the command line. See docs/scale-out.md.`,
    )
    .action(async (opts) => (await import("../actions/host.js")).host(global(), opts));
}
