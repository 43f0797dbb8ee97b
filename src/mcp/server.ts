import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { isBatonError } from "../errors.js";
import { MAX_MESSAGE_BYTES } from "../protocol/lines.js";
import { resolveHome } from "../store/home.js";
import { ConfiguredAgents } from "./agents.js";
import { boundedLines, type LongLine, requestOf } from "./bounded-lines.js";
import { BatonSession } from "./session.js";
import { keepMalformedArguments, registerTools, type Tool } from "./tool.js";
import { eventTool } from "./tools/events.js";
import { PatternRuns, patternTool } from "./tools/pattern.js";
import { planTools } from "./tools/plan.js";
import { resultTools } from "./tools/results.js";
import { workerTools } from "./tools/workers.js";

export interface McpServeOptions {
  /** The run store. @default BATON_HOME, else the nearest `.baton` folder, else `./.baton` */
  readonly home?: string;
  /** Where workers run unless a call says otherwise. @default process.cwd() */
  readonly cwd?: string;
  /** What workers inherit. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default process.stdin */
  readonly stdin?: Readable;
  /** @default process.stdout */
  readonly stdout?: Writable;
}

const INSTRUCTIONS =
  "Baton runs coding-agent workers in the background, each in its own terminal. Plan (plan_update), " +
  "spawn workers with focused tasks, keep working while they run (poll, wait with a timeout), then read " +
  "only each worker's final answer (result) and curate it: never forward raw worker output. " +
  "Patterns (run_pattern) run a whole review, fix, scout, sections, research or options flow to one result.";

/** Every tool `baton mcp` serves, in the order a client lists them. */
export function batonTools(
  session: BatonSession,
  home: string,
  cwd: string,
  shutdown: AbortSignal,
  runs: PatternRuns = new PatternRuns(),
  /** The config's named agents, which the spawn and run_pattern tools list and take by name. */
  agents: ConfiguredAgents = new ConfiguredAgents(home, process.env),
): Tool[] {
  const tools = [
    ...workerTools(session, cwd, agents),
    ...resultTools(session),
    eventTool(session),
    ...planTools(home),
    patternTool(session, cwd, shutdown, runs, agents),
  ];
  // A supervisor that went away (shut down, idle exit) is reached again on the next call.
  return tools.map((tool) => ({
    ...tool,
    async run(args, signal) {
      try {
        return await tool.run(args, signal);
      } catch (error) {
        if (isBatonError(error) && error.code === "supervisor") await session.reset();
        throw error;
      }
    },
  }));
}

/**
 * Serves Baton's tools over MCP on stdio until the client closes stdin. Pattern runs still going then
 * are stopped with their workers; workers started with spawn keep running, as after `baton spawn`.
 */
export async function serveMcp(options: McpServeOptions = {}): Promise<void> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const home = options.home ?? resolveHome(cwd, env);
  const stdin = options.stdin ?? process.stdin;
  const shutdown = new AbortController();
  const session = new BatonSession({ home, cwd, env });
  const runs = new PatternRuns();
  const server = new McpServer({ name: "baton", version: packageVersion() }, { instructions: INSTRUCTIONS });
  const agents = await ConfiguredAgents.at(home, env);
  registerTools(server, batonTools(session, home, cwd, shutdown.signal, runs, agents));
  const closed = new Promise<void>((resolve) => {
    stdin.once("end", resolve);
    stdin.once("close", resolve);
  });
  const stdout = options.stdout ?? process.stdout;
  // The SDK's transport would end the session on a message over its buffer (10 MB by default): it is
  // given room for the largest call Baton takes, and never sees a longer one.
  const lines = boundedLines(stdin, MAX_MESSAGE_BYTES, (line) => refuseLongLine(stdout, line));
  const transport = new StdioServerTransport(lines, stdout, { maxBufferSize: 2 * MAX_MESSAGE_BYTES });
  keepMalformedArguments(transport);
  await server.connect(transport);
  await closed;
  shutdown.abort();
  await runs.settled(); // their workers are stopped through the session, so it closes after
  await server.close();
  await session.reset();
}

/** Answers a request too long to read, when its id can be told: a tool error for a tool call. */
function refuseLongLine(stdout: Writable, line: LongLine): void {
  const request = requestOf(line);
  if (!request) return; // a notification, or no id to answer to
  const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  const text =
    `the request is ${mib(line.bytes)}, more than the ${mib(MAX_MESSAGE_BYTES)} baton mcp reads: ` +
    "give a shorter task, and point to files instead of pasting them";
  const reply =
    request.method === "tools/call"
      ? { result: { content: [{ type: "text", text }], isError: true } }
      : { error: { code: -32600, message: text } };
  stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id: request.id, ...reply })}\n`);
}

function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
