import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { isBatonError } from "../errors.js";
import { valueAt } from "../input-path.js";

/** What a tool answers: text for the model, and whether it is an error. */
export interface ToolAnswer {
  readonly text: string;
  readonly isError?: boolean;
}

/** One MCP tool: a thin adapter over one library call. */
export interface Tool<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  /** For a model: what it does, its limits, in a few lines. */
  readonly description: string;
  readonly input: S;
  /** A correct call, shown when the arguments are wrong. */
  readonly example: Record<string, unknown>;
  readonly readOnly?: boolean;
  run(args: z.infer<S>, signal: AbortSignal): Promise<ToolAnswer>;
}

/** Keeps the argument type of each tool's `run` tied to its own schema. */
export const defineTool = <S extends z.ZodObject>(tool: Tool<S>): Tool<S> => tool;

/**
 * Registers the tools on an McpServer. The SDK checks arguments against a tool's schema before the
 * handler runs, and its message names only the zod issue; a model needs to be told how to call the
 * tool instead. So the SDK is given a schema that accepts any object but advertises the tool's real
 * JSON Schema, and the arguments are checked here, against the real one.
 */
export function registerTools(server: McpServer, tools: readonly Tool[]): void {
  for (const tool of tools) {
    const { $schema: _, ...advertised } = z.toJSONSchema(tool.input, { io: "input" });
    server.registerTool(
      tool.name,
      {
        description: tool.description,
        inputSchema: z.looseObject({}).meta(advertised),
        annotations: { readOnlyHint: tool.readOnly === true, openWorldHint: false },
      },
      async (args: unknown, extra: { signal: AbortSignal }): Promise<CallToolResult> =>
        toResult(await callTool(tool, args, extra.signal)),
    );
  }
}

/** Where {@link keepMalformedArguments} puts a tools/call's `arguments` that is not an object. */
const MALFORMED = "\0baton: arguments that are not an object";

/**
 * The SDK answers a tools/call whose `arguments` is not an object (null, an array, a string) with a
 * protocol error holding a zod dump, before any tool sees it: a model learns nothing from that. Installed
 * on the transport before the server connects (the server calls it before its own handler), this wraps
 * such arguments in an object, so that the call reaches {@link callTool} and is told how to call the tool.
 */
export function keepMalformedArguments(transport: Transport): void {
  transport.onmessage = (message) => {
    if (!("method" in message) || message.method !== "tools/call" || !("id" in message)) return;
    const params: unknown = message.params;
    if (!isObject(params) || !Object.hasOwn(params, "arguments")) return;
    const args = params.arguments;
    if (args !== undefined && !isObject(args)) params.arguments = { [MALFORMED]: args };
  };
}

/** Checks the arguments and runs the tool; every failure becomes a tool error that says what to do. */
export async function callTool(tool: Tool, args: unknown, signal: AbortSignal): Promise<ToolAnswer> {
  const wrong = notAnObject(args);
  if (wrong) {
    const example = JSON.stringify(tool.example);
    return {
      isError: true,
      text: `${tool.name}: the arguments must be a JSON object, got ${wrong}. Call it like: ${example}`,
    };
  }
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) return { isError: true, text: usageError(tool, parsed.error, args) };
  try {
    return await tool.run(parsed.data, signal);
  } catch (error) {
    if (isBatonError(error)) return { isError: true, text: error.message };
    return { isError: true, text: `unexpected error: ${(error as Error)?.message ?? String(error)}` };
  }
}

/** `spawn: field "task" is missing. Call it like: {"task": "..."}` */
export function usageError(tool: Tool, error: z.ZodError, args: unknown): string {
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  const field = issue?.path.length ? `field "${issue.path.join(".")}"` : "the arguments";
  let what: string;
  if (!issue) what = "the arguments are invalid";
  else if (issue.code === "unrecognized_keys") {
    const known = Object.keys(tool.input.shape).join(", ");
    what = `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")} (known: ${known})`;
  } else if (issue.path.length > 0 && valueAt(args, issue.path) === undefined) what = `${field} is missing`;
  else what = `${field}: ${issue.message.replace(/\s+/g, " ")}`;
  const stop = what.endsWith(".") ? "" : ".";
  return `${tool.name}: ${what}${stop} Call it like: ${JSON.stringify(tool.example)}`;
}

/** What `args` is, when it is given and is not an object: "null", "an array", "a string"... */
function notAnObject(args: unknown): string | undefined {
  const given = isObject(args) && Object.hasOwn(args, MALFORMED) ? args[MALFORMED] : args;
  if (given === undefined || isObject(given)) return undefined;
  if (given === null) return "null";
  if (Array.isArray(given)) return "an array";
  return `a ${typeof given}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toResult(answer: ToolAnswer): CallToolResult {
  return {
    content: [{ type: "text", text: answer.text }],
    ...(answer.isError ? { isError: true } : {}),
  };
}
