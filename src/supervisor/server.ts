import net from "node:net";
import type { z } from "zod";
import { BatonError } from "../errors.js";
import { LineSplitter, MAX_MESSAGE_BYTES } from "../protocol/lines.js";
import {
  configureParams,
  describeIssue,
  idParams,
  pollParams,
  type Response,
  request,
  resumeParams,
  sendParams,
  spawnParams,
  stopParams,
  waitParams,
} from "../protocol/messages.js";
import type { Supervisor } from "./supervisor.js";

type Handler = (params: unknown, signal: AbortSignal) => Promise<unknown> | unknown;

function parse<T>(schema: z.ZodType<T>, params: unknown, method: string): T {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, method));
  return parsed.data;
}

/** The supervisor's request handlers: one per method, each validating its own parameters. */
export function handlers(supervisor: Supervisor, hooks: { shutdown(): void }): Record<string, Handler> {
  return {
    hello: () => ({ pid: process.pid, maxParallel: supervisor.maxParallel, problems: supervisor.problems }),
    spawn: (p) => supervisor.spawn(parse(spawnParams, p, "spawn")),
    list: () => ({
      workers: supervisor.list(),
      maxParallel: supervisor.maxParallel,
      problems: supervisor.problems,
    }),
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

/** Serves newline-delimited JSON requests on a local socket. A closed connection aborts its requests. */
export function serve(table: Record<string, Handler>, onActivity: (connections: number) => void): net.Server {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    onActivity(connections);
    const controller = new AbortController();
    // Each request can be cancelled on its own ("cancel"), and all of them by closing the connection.
    const inFlight = new Map<number, AbortController>();
    const splitter = new LineSplitter(MAX_MESSAGE_BYTES);
    const reply = (response: Response) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
    };
    socket.on("data", (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        reply({ id: -1, ok: false, error: { code: "usage", message: (error as Error).message } });
        socket.destroy();
        return;
      }
      for (const line of lines) void handle(line);
    });
    const handle = async (line: string) => {
      let id = -1;
      try {
        const parsed = request.safeParse(JSON.parse(line));
        if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, "request"));
        id = parsed.data.id;
        if (parsed.data.method === "cancel") {
          const target = (parsed.data.params as { id?: unknown } | undefined)?.id;
          if (typeof target === "number") inFlight.get(target)?.abort();
          reply({ id, ok: true, result: {} });
          return;
        }
        const handler = Object.hasOwn(table, parsed.data.method) ? table[parsed.data.method] : undefined;
        if (!handler) throw new BatonError("usage", `unknown method "${parsed.data.method}"`);
        const own = new AbortController();
        inFlight.set(id, own);
        try {
          const signal = AbortSignal.any([controller.signal, own.signal]);
          reply({ id, ok: true, result: await handler(parsed.data.params, signal) });
        } finally {
          inFlight.delete(id);
        }
      } catch (error) {
        const known = error instanceof BatonError;
        reply({
          id,
          ok: false,
          error: {
            code: known ? error.code : "internal",
            message: known ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`,
          },
        });
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
