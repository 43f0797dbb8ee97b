// Plain constants, apart from the schema, so that `baton plan --help` needs no schema library.

/**
 * What a plan may hold at most: far above any real plan (3 to 6 one-sentence steps), far below what would
 * bloat `plan.json`, its history and every `baton ls`.
 */
export const PLAN_LIMITS = { steps: 50, stepChars: 2000, explanationChars: 10_000 } as const;

export const UPDATE_SHAPE =
  '{"explanation": "...", "plan": [{"step": "...", "status": "pending" | "in_progress" | "completed"}]}';

/** The current plan's file, in the run store or a pattern run's folder. */
export const PLAN_FILE = "plan.json";
