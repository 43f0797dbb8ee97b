import type { Command } from "commander";
import { BatonError } from "../../errors.js";

// What `baton try` does is in ../actions/try.ts, loaded only when it runs.

export function registerTry(program: Command): void {
  program
    .command("try")
    .description(
      "try Baton by hand with no account: serve a scripted model here and print the lines to paste in another terminal",
    )
    .option("--port <n>", "the port to serve on (default: a free one)", (value: string) => {
      const port = Number(value);
      if (!/^[0-9]+$/.test(value) || port < 1 || port > 65_535) {
        throw new BatonError("usage", `--port must be a port number (1 to 65535), got "${value}"`);
      }
      return port;
    })
    .addHelpText(
      "after",
      `
The scripted model answers every worker with a short message (and, if a prompt holds a line
MODEL-SCRIPT: [...], plays those steps: see src/scripted-model/directives.ts). It listens on
127.0.0.1 only, until Ctrl+C. Nothing reaches the network and no key is needed.`,
    )
    .action(async (opts: { port?: number }) => (await import("../actions/try.js")).tryBaton(opts));
}
