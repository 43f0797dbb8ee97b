export { PatternRun, type PatternRunOptions, type RunEvent, type WorkerAsk } from "./pattern-run.js";
export { progressPrinter } from "./progress.js";
export {
  PATTERN_NAMES,
  type PatternName,
  type PatternOptionsByName,
  type PatternOutcome,
  runPattern,
} from "./run-pattern.js";
export { RunRecord, type RunState } from "./run-record.js";
export type { PatternResult } from "./types.js";
