import { fileURLToPath } from "node:url";

/** How an agent starts `baton mcp`. */
export interface ServerCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * This very Node and this very CLI, by absolute path: an agent starts MCP servers with a short PATH
 * (codex passes only a few variables), where `baton` or even `node` may not be found.
 */
export function batonServerCommand(): ServerCommand {
  const cli = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
  return { command: process.execPath, args: [cli, "mcp"] };
}

/** The skill's folder name, and where the package keeps it. */
export const SKILL_NAME = "baton-orchestration";
export const SKILL_SOURCE = fileURLToPath(new URL(`../../../skills/${SKILL_NAME}/SKILL.md`, import.meta.url));
