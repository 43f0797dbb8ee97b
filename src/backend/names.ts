// The built-in backends' names, in the order they are offered, without loading any backend: the client
// tells a built-in name from a named agent of the config at every spawn, and must stay light to start.

/** Every backend Baton has, as `--backend` takes them; `registry.ts` holds one backend for each. */
export const BACKEND_NAMES = [
  "codex",
  "claude",
  "gemini",
  "acp",
  "acp:gemini",
  "acp:opencode",
  "command",
] as const;

/** Whether `name` is a built-in backend's (not a named agent of the config). */
export const isBackendName = (name: string): boolean => (BACKEND_NAMES as readonly string[]).includes(name);
