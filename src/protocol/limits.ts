// The protocol's bounds and defaults, apart from its schemas so that the CLI can name them in its
// flags and help without loading a schema library.

export const MAX_PARALLEL_LIMIT = 1024;
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
export const DEFAULT_TIMEOUT_SECONDS = 3600;
export const DEFAULT_MAX_PARALLEL = 8;
export const DEFAULT_POLL_BYTES = 16 * 1024;
export const DEFAULT_GRACE_SECONDS = 3;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;
export const DEFAULT_RETRIES = 2;
export const MAX_RETRIES = 10;
export const MAX_TOKEN_BUDGET = 1e12;
/** The largest dollar budget a worker or a run may be given (US dollars). */
export const MAX_COST_BUDGET_USD = 1_000_000;
export const MAX_GRACE_SECONDS = 3600;
export const MAX_POLL_WAIT_MS = 3_600_000;
export const MAX_POLL_BYTES = 64 * 1024 * 1024;
/** The longest a `wait` may be told to wait: 30 days. */
export const MAX_WAIT_MS = 30 * 24 * 3600 * 1000;

/**
 * The largest task or rendered prompt, in bytes: room for any real brief (a 10 MiB one is tested), while
 * a runaway is refused in one line before it reaches the supervisor, a file or the agent.
 */
export const MAX_PROMPT_BYTES = 16 * 1024 * 1024;
/** The longest label; also what `ls` and the progress lines have room for. */
export const MAX_LABEL_CHARS = 200;
/** The longest path (Linux's PATH_MAX) and the most `--write` paths one worker may hold. */
export const MAX_PATH_CHARS = 4096;
export const MAX_WRITE_PATHS = 1000;
/** The longest name: a model, a backend, a reader, a lens. */
export const MAX_NAME_CHARS = 200;
/** The most text one `send` types into a worker's terminal. */
export const MAX_SEND_BYTES = 1024 * 1024;
/** The most worker ids one request names. */
export const MAX_IDS = 10_000;
