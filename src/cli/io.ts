// Where a command's words go and what it knows of its caller. A command run in its own process
// (`processIo`) writes to the process's stdout and stderr; one run for a native client inside the
// supervisor (relay.ts) writes to that client's connection, with the client's folder, environment
// and terminals. Every quick-path action takes its Io from its GlobalOptions, never from `process`.

/** A command's stdout or stderr. */
export interface Output {
  /** Whether it is a terminal: text from workers then has its control characters shown, not run. */
  readonly isTTY: boolean;
  write(text: string): void;
  /** A terminal's size, when known. */
  readonly columns?: number | undefined;
  readonly rows?: number | undefined;
}

export interface Io {
  readonly out: Output;
  readonly err: Output;
  /** The caller's current folder. */
  readonly cwd: string;
  /** The caller's environment. */
  readonly env: NodeJS.ProcessEnv;
  /** Aborted when the caller is gone: what the command still awaits is dropped. */
  readonly signal?: AbortSignal;
  /**
   * Calls `handler` at each Ctrl+C until the returned function is called; `first`: before the
   * handlers already there (a live display that must be gone before they write).
   */
  onInterrupt(handler: () => void, options?: { readonly first?: boolean }): () => void;
  /** Ends the command at once with `code`, whatever it still awaits (a forced stop). */
  exit(code: number): void;
}

const output = (stream: NodeJS.WriteStream): Output => ({
  get isTTY() {
    return stream.isTTY === true;
  },
  write: (text) => {
    stream.write(text);
  },
  get columns() {
    return stream.columns;
  },
  get rows() {
    return stream.rows;
  },
});

/** The Io of a command run in its own process. */
export const processIo: Io = {
  out: output(process.stdout),
  err: output(process.stderr),
  get cwd() {
    return process.cwd();
  },
  get env() {
    return process.env;
  },
  onInterrupt: (handler, options) => {
    if (options?.first) process.prependListener("SIGINT", handler);
    else process.on("SIGINT", handler);
    return () => process.off("SIGINT", handler);
  },
  exit: (code) => process.exit(code),
};
