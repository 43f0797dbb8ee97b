// The defaults of the patterns' options, in one place: `baton run`, the MCP `run_pattern` tool and
// workflow files all read them from here. Kept free of imports: the CLI loads it to print its help.

export const PATTERN_DEFAULTS = {
  review: { lenses: ["correctness", "risks", "clarity"] as readonly string[] },
  fix: { top: 3, maxRounds: 2 },
  options: { count: 3 },
} as const;
