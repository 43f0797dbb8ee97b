import { BatonError, type BatonErrorCode } from "../errors.js";
import type { RequestOptions, Transport } from "../protocol/transport.js";
import { type Call, errorOf, type Handler, handlerOf } from "./server.js";

/**
 * Requests to the supervisor's handlers in process, for a command it runs on behalf of a caller that a
 * connection's hello has admitted (cli/relay.ts): no second socket, hello or caller check. Each goes as
 * it would over the socket: its parameters and result copied as JSON, its errors as the client would
 * rebuild them; closing the transport, or `closed` (the caller's connection) aborting, aborts them all.
 */
export function localTransport(table: Record<string, Handler>, closed: AbortSignal): Transport {
  const controller = new AbortController();
  const gone = AbortSignal.any([controller.signal, closed]);
  const call: Call = {
    notify: () => {},
    onCancel: () => {},
    onResize: () => {},
    closed: gone,
    local: () => localTransport(table, gone),
  };
  return {
    async request<T>(method: string, params?: unknown, options: RequestOptions = {}): Promise<T> {
      const signal = options.signal ? AbortSignal.any([gone, options.signal]) : gone;
      if (signal.aborted) throw new BatonError("aborted", `${method} was aborted`);
      const copy: unknown = JSON.parse(JSON.stringify(params ?? {}));
      let result: unknown;
      let onAbort = () => {};
      try {
        const handler = handlerOf(table, method, copy);
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => reject(new BatonError("aborted", `${method} was aborted`));
          signal.addEventListener("abort", onAbort, { once: true });
        });
        result = await Promise.race([handler(copy, signal, call), aborted]);
      } catch (error) {
        if (error instanceof BatonError && error.code === "aborted") throw error;
        const { code, message } = errorOf(error);
        throw new BatonError(code as BatonErrorCode, message);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      return (result === undefined ? undefined : JSON.parse(JSON.stringify(result))) as T;
    },
    close: () => controller.abort(),
  };
}
