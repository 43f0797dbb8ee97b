import type { Command } from "commander";
import type { GlobalOptions } from "../context.js";

export function registerMcp(program: Command, global: () => GlobalOptions): void {
  program
    .command("mcp")
    .description("serve Baton's tools to an agent over the Model Context Protocol (stdio)")
    .addHelpText(
      "after",
      `
Tools: spawn, poll, send, interrupt, stop, wait, result, list, plan_update, plan_show, run_pattern.
An agent's MCP client starts this; register it with \`baton skill install --codex\` or \`--claude\`.`,
    )
    .action(async () => {
      if (process.stdin.isTTY) {
        process.stderr.write(
          "baton: this is Baton's MCP server; it speaks JSON-RPC on stdin and stdout for an agent, which starts it (see `baton skill install`). Ctrl+D ends it.\n",
        );
      }
      const home = global().home;
      // Loaded only here: the MCP SDK is most of the CLI's start-up time, and only this command needs it.
      const { serveMcp } = await import("../../mcp/server.js");
      await serveMcp(home ? { home } : {});
    });
}
