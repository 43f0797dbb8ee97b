import { BatonError } from "../../errors.js";
import type { ServerCommand } from "./server-command.js";

/**
 * Variables codex passes on to the server, and so to the workers it starts: codex gives an MCP server
 * only a short list (HOME, PATH, USER, ...) unless told. Names only; no value is written.
 */
export const FORWARDED_ENV = [
  // So that a baton server a worker's codex somehow starts still refuses to spawn.
  "BATON_WORKER_ID",
  "BATON_HOME",
  "BATON_CODEX_BIN",
  "CODEX_HOME",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
] as const;

/** Long enough for `wait` and `run_pattern` at their longest (600 s); codex's default is 60 s. */
export const TOOL_TIMEOUT_SECONDS = 660;

const HEADER = /^\s*\[\s*([^\]]*?)\s*\]\s*(#.*)?$/;
const BATON_TABLE = /^mcp_servers\s*\.\s*(baton|"baton")(\s*\..*)?$/;
/** `mcp_servers.baton.command = ...`, `baton = { ... }` under `[mcp_servers]`, and the like. */
const OTHER_FORMS = /^\s*(mcp_servers\s*\.\s*)?("baton"|baton)\s*(\.|=\s*\{)/m;

/** The `[mcp_servers.baton]` table, as `baton skill install --codex` writes it. */
export function codexServerTable(server: ServerCommand): string {
  const list = (items: readonly string[]) => `[${items.map((item) => tomlString(item)).join(", ")}]`;
  return [
    "[mcp_servers.baton]",
    `command = ${tomlString(server.command)}`,
    `args = ${list(server.args)}`,
    `env_vars = ${list(FORWARDED_ENV)}`,
    // codex exec runs with approval policy "never": an MCP call that needs approval fails.
    'default_tools_approval_mode = "approve"',
    `tool_timeout_sec = ${TOOL_TIMEOUT_SECONDS}`,
    // Without it codex gives a server about a second to start, then runs the first turn without its tools.
    "required = true",
    "",
  ].join("\n");
}

export interface TableEdit {
  /** The file's new text. */
  readonly text: string;
  /** There was a baton table, and it differed from ours. */
  readonly replaced: boolean;
  /** The file already had exactly our table. */
  readonly unchanged: boolean;
}

/**
 * Puts `table` into a codex `config.toml`: in place of an existing `[mcp_servers.baton]` table and its
 * subtables, else at the end. Everything else in the file is kept as it was, comments included.
 */
export function withServerTable(config: string, table: string, file: string): TableEdit {
  const lines = config.split("\n");
  let start = -1;
  let end = lines.length;
  for (const [index, line] of lines.entries()) {
    const header = HEADER.exec(line)?.[1];
    if (header === undefined) continue;
    const ours = BATON_TABLE.test(header);
    if (ours && start < 0) start = index;
    else if (!ours && start >= 0) {
      end = index;
      break;
    }
  }
  if (start < 0) {
    if (OTHER_FORMS.test(config)) {
      throw new BatonError(
        "usage",
        `${file} defines mcp_servers.baton in a form Baton does not edit (a dotted key or inline table): replace it with a [mcp_servers.baton] table or remove it, then run again`,
      );
    }
    const separator = config === "" || config.endsWith("\n\n") ? "" : config.endsWith("\n") ? "\n" : "\n\n";
    return { text: `${config}${separator}${table}`, replaced: false, unchanged: false };
  }
  // Blank lines and comments just before the next table belong to it, not to ours.
  while (end > start + 1 && /^\s*(#.*)?$/.test(lines[end - 1] ?? "")) end--;
  const existing = lines.slice(start, end).join("\n").trim();
  if (existing === table.trim()) return { text: config, replaced: false, unchanged: true };
  const text = [...lines.slice(0, start), ...table.trimEnd().split("\n"), ...lines.slice(end)].join("\n");
  return { text, replaced: true, unchanged: false };
}

/** A TOML basic string; JSON's escapes are TOML's, except that TOML has no `\/` (JSON never emits it). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}
