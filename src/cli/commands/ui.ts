import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import type { GlobalOptions } from "../context.js";

// What `baton ui` does is in ../actions/ui.ts, loaded only when it runs (with its web server).

export function registerUi(program: Command, global: () => GlobalOptions): void {
  program
    .command("ui")
    .description("serve a live web dashboard of the workspace on 127.0.0.1, until Ctrl+C")
    .option("--port <n>", "the port to serve on (default: a free one)", (value: string) => {
      const port = Number(value);
      if (!/^[0-9]+$/.test(value) || port < 1 || port > 65_535) {
        throw new BatonError(
          "usage",
          `--port must be a port number (1 to 65535), got "${value}": give one, or leave --port out for a free one`,
        );
      }
      return port;
    })
    .addHelpText(
      "after",
      `
Prints a URL to open in a browser: http://127.0.0.1:PORT/t/TOKEN/. The token is a new random key each
time; only requests that carry it (from this machine, to 127.0.0.1 or localhost) are answered. Keep the
URL to yourself: whoever has it can stop your workers. See docs/ui.md.`,
    )
    .action(async (opts: { port?: number }) => (await import("../actions/ui.js")).ui(global(), opts));
}
