export {
  type AgentChoice,
  parseAgent,
  parseKeyed,
  parseRoleAgent,
  ROLE_KEYS,
  type RoleKey,
  withNames,
} from "./agents.js";
export { PatternRun, type PatternRunOptions, type RunEvent, type WorkerAsk } from "./pattern-run.js";
export { progressPrinter } from "./progress.js";
export { agentFor, checkBackend, settleAgents } from "./run-agents.js";
export {
  checkPattern,
  PATTERN_NAMES,
  type PatternName,
  type PatternOptionsByName,
  type PatternOutcome,
  resumePattern,
  runPattern,
} from "./run-pattern.js";
export { RunRecord, type RunSettings, type RunState, type RunWorker } from "./run-record.js";
export { interruptedSummary, transcriptTail } from "./summary.js";
export type { PatternResult } from "./types.js";
