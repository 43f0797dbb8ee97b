import net from "node:net";
import type { z } from "zod";
import { BatonError } from "../errors.js";
import type { PublishedBody } from "../events/types.js";
import { LineSplitter, MAX_MESSAGE_BYTES } from "../protocol/lines.js";
import {
  configureParams,
  describeIssue,
  eventsParams,
  idParams,
  listParams,
  pollParams,
  publishParams,
  type Response,
  request,
  resumeParams,
  sendParams,
  spawnParams,
  stopParams,
  waitParams,
} from "../protocol/messages.js";
import type { Transport } from "../protocol/transport.js";
import { localTransport } from "./local-transport.js";
import type { Supervisor } from "./supervisor.js";

/** What a request's handler may do besides replying once. */
export interface Call {
  /** Sends `{id, ...body}` before the reply (a relayed command's output as it comes); nothing after it. */
  notify(body: Record<string, unknown>): void;
  /** Calls `listener` each time the client sends "cancel" for this request. */
  onCancel(listener: () => void): void;
  /** Calls `listener` with the params of each "resize" the client sends for this request. */
  onResize(listener: (params: unknown) => void): void;
  /** Aborted when the connection closes. */
  readonly closed: AbortSignal;
  /** Requests to this supervisor's handlers, in process, on behalf of this connection's (admitted) caller. */
  local(): Transport;
}

/** A request's handler: its signal aborts when the client cancels the request or goes. */
export type Handler = (params: unknown, signal: AbortSignal, call: Call) => Promise<unknown> | unknown;

/** Validates a request's parameters; a usage error names the field. */
export function parse<T>(schema: z.ZodType<T>, params: unknown, method: string): T {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, method));
  return parsed.data;
}

/** The supervisor's request handlers: one per method, each validating its own parameters. */
export function handlers(supervisor: Supervisor, hooks: { shutdown(): void }): Record<string, Handler> {
  return {
    // Admission (see `serve`) has checked the caller by the time this runs.
    hello: () => ({ pid: process.pid, maxParallel: supervisor.maxParallel, problems: supervisor.problems }),
    spawn: (p) => supervisor.spawn(parse(spawnParams, p, "spawn")),
    list: (p) => ({
      workers: supervisor.list(parse(listParams, p, "list").workers),
      maxParallel: supervisor.maxParallel,
      problems: supervisor.problems,
      seq: supervisor.events.seq,
    }),
    events: (p, signal) => {
      const { since, ...query } = parse(eventsParams, p, "events");
      return supervisor.events.next(since, query, signal);
    },
    publish: (p) => {
      const { event } = parse(publishParams, p, "publish");
      const body: PublishedBody = event.type === "run" ? { ...event, state: event.state } : event;
      return { seq: supervisor.events.emit(body).seq };
    },
    poll: (p, signal) => supervisor.poll(parse(pollParams, p, "poll"), signal),
    send: (p) => {
      const { id, text, enter } = parse(sendParams, p, "send");
      supervisor.send(id, text, enter);
      return { id };
    },
    interrupt: (p) => {
      const { id } = parse(idParams, p, "interrupt");
      supervisor.interrupt(id);
      return { id };
    },
    stop: async (p) => ({ stopped: await supervisor.stop(parse(stopParams, p, "stop")) }),
    wait: (p, signal) => supervisor.wait(parse(waitParams, p, "wait"), signal),
    result: (p) => supervisor.result(parse(idParams, p, "result").id),
    resume: async (p) => ({ resumed: await supervisor.resume(parse(resumeParams, p, "resume")) }),
    configure: (p) => {
      supervisor.maxParallel = parse(configureParams, p, "configure").maxParallel;
      return { maxParallel: supervisor.maxParallel };
    },
    // Replies once every worker has stopped; the process exits right after.
    shutdown: async () => {
      await supervisor.close();
      setImmediate(() => hooks.shutdown());
      return { pid: process.pid };
    },
  };
}

/**
 * Decides whether a connection may be served, from its hello's parameters; throws a BatonError to
 * refuse it.
 */
export type Admit = (params: unknown, socket: net.Socket) => Promise<void>;

/**
 * Serves newline-delimited JSON requests on a local socket. The first request must be `hello`, and
 * nothing else is served until `admit` accepts it. A closed connection aborts its requests.
 */
export function serve(
  table: Record<string, Handler>,
  onActivity: (connections: number) => void,
  admit: Admit,
): net.Server {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    onActivity(connections);
    const controller = new AbortController();
    // Each request can be cancelled on its own ("cancel"), and all of them by closing the connection.
    type Listener = (params: unknown) => void;
    const inFlight = new Map<
      number,
      { readonly own: AbortController; readonly cancels: Listener[]; readonly resizes: Listener[] }
    >();
    const splitter = new LineSplitter(MAX_MESSAGE_BYTES);
    // Settles once the hello is judged; requests that come before that wait for it.
    let admitted: Promise<boolean> | undefined;
    const reply = (response: Response) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
    };
    let refused = false;
    const refuse = (id: number, error: unknown) => {
      if (refused) return;
      refused = true;
      reply({ id, ok: false, error: errorOf(error) });
      socket.end(() => socket.destroy());
    };
    socket.on("data", (chunk: Buffer) => {
      if (refused) return; // what a refused client still sends is dropped unread
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        refuse(-1, new BatonError("usage", (error as Error).message));
        return;
      }
      for (const line of lines) void handle(line);
    });
    // The first line must be a hello; every line after it waits until the hello is judged, so that
    // nothing, not even a parse error, is answered to a client that is refused.
    const handle = async (line: string) => {
      if (admitted === undefined) {
        admitted = hello(line);
        await admitted;
        return;
      }
      if (await admitted) await serveLine(line);
    };
    const hello = async (line: string): Promise<boolean> => {
      let id = -1;
      try {
        const parsed = request.safeParse(parseJson(line));
        if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, "request"));
        id = parsed.data.id;
        if (parsed.data.method !== "hello") {
          throw new BatonError("usage", 'the first request must be "hello" with the client\'s pid');
        }
        await admit(parsed.data.params, socket);
      } catch (error) {
        refuse(id, error);
        return false;
      }
      await serveLine(line);
      return true;
    };
    const serveLine = async (line: string) => {
      let id = -1;
      try {
        const parsed = request.safeParse(parseJson(line));
        if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, "request"));
        id = parsed.data.id;
        const { method, params } = parsed.data;
        if (method === "cancel" || method === "resize") {
          // About a request in flight: a cancel aborts it, a resize tells it its terminal's new size.
          const target = (params as { id?: unknown } | undefined)?.id;
          const call = typeof target === "number" ? inFlight.get(target) : undefined;
          if (method === "cancel") call?.own.abort();
          for (const listener of (method === "cancel" ? call?.cancels : call?.resizes) ?? [])
            listener(params);
          reply({ id, ok: true, result: {} });
          return;
        }
        const handler = handlerOf(table, method, params);
        const own = new AbortController();
        const cancels: Listener[] = [];
        const resizes: Listener[] = [];
        inFlight.set(id, { own, cancels, resizes });
        let replied = false;
        const call: Call = {
          notify: (body) => {
            if (!replied && !socket.destroyed) socket.write(`${JSON.stringify({ id, ...body })}\n`);
          },
          onCancel: (listener) => cancels.push(listener),
          onResize: (listener) => resizes.push(listener),
          closed: controller.signal,
          local: () => localTransport(table, controller.signal),
        };
        try {
          const signal = AbortSignal.any([controller.signal, own.signal]);
          const result = await handler(parsed.data.params, signal, call);
          replied = true;
          reply({ id, ok: true, result });
        } finally {
          replied = true;
          inFlight.delete(id);
        }
      } catch (error) {
        reply({ id, ok: false, error: errorOf(error) });
      }
    };
    socket.on("error", () => {});
    socket.on("close", () => {
      connections -= 1;
      controller.abort();
      onActivity(connections);
    });
  });
  return server;
}

/** The handler of `method`, for `params`; a usage error for an unknown method or a NUL byte. */
export function handlerOf(table: Record<string, Handler>, method: string, params: unknown): Handler {
  const handler = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!handler) throw new BatonError("usage", `unknown method "${method}"`);
  // No path, argument, environment entry or prompt can carry one to a process or a file intact.
  const nul = nulAt(params);
  if (nul !== undefined)
    throw new BatonError("usage", `${method}: ${nul || "params"} contains a NUL byte: remove it`);
  return handler;
}

/** Where in `value` a string (or a key) holds a NUL byte, as `a.b.0`; undefined if nowhere. */
function nulAt(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.includes("\0") ? path : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes("\0")) return at;
    const found = nulAt(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new BatonError(
      "usage",
      `a request is not valid JSON (${(error as Error).message}): send one JSON object a line`,
    );
  }
}

export function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof BatonError) return { code: error.code, message: error.message };
  return { code: "internal", message: `internal error: ${(error as Error)?.message ?? String(error)}` };
}
