import { isDeepStrictEqual } from "node:util";
import { BatonError } from "../../errors.js";
import type { TableEdit } from "./codex-config.js";
import type { ServerCommand } from "./server-command.js";

/** Claude Code's user-scope entry for a stdio server, as `claude mcp add --scope user` writes it. */
export function claudeServerEntry(server: ServerCommand): Record<string, unknown> {
  return { type: "stdio", command: server.command, args: [...server.args], env: {} };
}

/** Puts `entry` under `mcpServers.baton` in `~/.claude.json`, keeping every other key as it was. */
export function withServerEntry(config: string, entry: Record<string, unknown>, file: string): TableEdit {
  let data: Record<string, unknown> = {};
  if (config.trim() !== "") {
    try {
      data = JSON.parse(config) as Record<string, unknown>;
    } catch (error) {
      throw new BatonError(
        "usage",
        `${file} is not valid JSON (${(error as Error).message}): fix it, or move it away, then run again`,
      );
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new BatonError("usage", `${file} does not hold a JSON object: fix it, then run again`);
    }
  }
  const servers = data.mcpServers;
  if (servers !== undefined && (servers === null || typeof servers !== "object" || Array.isArray(servers))) {
    throw new BatonError("usage", `"mcpServers" in ${file} is not an object: fix it, then run again`);
  }
  const existing = (servers as Record<string, unknown> | undefined)?.baton;
  if (isDeepStrictEqual(existing, entry)) return { text: config, replaced: false, unchanged: true };
  const next = { ...data, mcpServers: { ...(servers as Record<string, unknown> | undefined), baton: entry } };
  return { text: `${JSON.stringify(next, null, 2)}\n`, replaced: existing !== undefined, unchanged: false };
}
