export { PatternRun, type PatternRunOptions, type RunEvent, type WorkerAsk } from "./pattern-run.js";
export { progressPrinter } from "./progress.js";
export {
  PATTERN_NAMES,
  type PatternName,
  type PatternOptionsByName,
  type PatternOutcome,
  resumePattern,
  runPattern,
} from "./run-pattern.js";
export { RunRecord, type RunSettings, type RunState } from "./run-record.js";
export { interruptedSummary, transcriptTail } from "./summary.js";
export type { PatternResult } from "./types.js";
