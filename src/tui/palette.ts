import type { WorkerState } from "../worker/state.js";

// The colours of worker states, the same in `baton top` and `baton wait`'s live lines.

/** Colour unless `NO_COLOR` is set to anything but the empty string (https://no-color.org). */
export function colourAllowed(env: NodeJS.ProcessEnv): boolean {
  return !env.NO_COLOR;
}

/** Each state's colour as Ink names it. */
export const STATE_COLOUR: Record<WorkerState, string> = {
  queued: "gray",
  running: "cyan",
  succeeded: "green",
  failed: "red",
  canceled: "magenta",
  timed_out: "red",
  over_budget: "yellow",
  lost: "red",
};

const SGR: Record<string, string> = {
  gray: "90",
  cyan: "36",
  green: "32",
  red: "31",
  magenta: "35",
  yellow: "33",
};

/** Each state's colour as an SGR parameter, for text drawn without Ink. */
export const STATE_SGR: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(STATE_COLOUR).map(([state, name]) => [state, SGR[name] ?? "0"]),
);
