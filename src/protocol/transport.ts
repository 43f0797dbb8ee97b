// How a client's requests reach a supervisor: its socket (client/connection.ts), or, for a command the
// supervisor runs itself on behalf of a caller it has admitted (cli/relay.ts), its handlers in process
// (supervisor/local-transport.ts).

export interface RequestOptions {
  readonly signal?: AbortSignal | undefined;
  /** Reject with the supervisor's pid named if no reply came within this. */
  readonly timeoutMs?: number | undefined;
}

export interface Transport {
  /** Sends a request; resolves with its result, or rejects with the supervisor's BatonError. */
  request<T>(method: string, params?: unknown, options?: RequestOptions): Promise<T>;
  close(): void;
}
