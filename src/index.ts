export type { AgentEvent, Backend, LaunchPlan } from "./backend/backend.js";
export { codexBackend } from "./backend/codex.js";
export {
  Baton,
  type BatonOptions,
  type PollOptions,
  type ResultError,
  type SpawnOptions,
} from "./client/baton.js";
export type { WatchOptions } from "./client/watch.js";
export { type Confiner, confiner } from "./confine/index.js";
export {
  type ContextPack,
  contextPackFromFlags,
  loadContextPack,
  mergeContextPacks,
  renderContextPack,
} from "./context/index.js";
export { BatonError, type BatonErrorCode } from "./errors.js";
export type { EventQuery } from "./events/bus.js";
export type { BatonEvent, EventBatch, EventBody, EventType, PublishedBody } from "./events/types.js";
export {
  FINDINGS_JSON_SCHEMA,
  type Finding,
  formatApa7,
  type MergedFinding,
  mergeFindings,
  parseFindings,
  renderMergedMarkdown,
  type Severity,
} from "./merge/index.js";
export {
  PATTERN_NAMES,
  type PatternName,
  type PatternOptionsByName,
  type PatternOutcome,
  PatternRun,
  type RunEvent,
  runPattern,
} from "./pattern/index.js";
export { checkPlan, type Plan, type PlanStep, PlanStore, renderPlan } from "./plan/index.js";
export { LENSES, loadTemplate, renderWorkerPrompt } from "./roles/index.js";
export { resolveHome } from "./store/home.js";
export type { PollResult, WaitResult } from "./supervisor/supervisor.js";
export { WORKER_PREAMBLE, workerPrompt } from "./worker/prompt.js";
export { type FinalState, isFinal, type WorkerState } from "./worker/state.js";
export {
  type EndReason,
  ROLES,
  type Role,
  type Scope,
  totalTokens,
  type Usage,
  type WorkerInfo,
  type WorkerResult,
  type WorkerSpec,
} from "./worker/types.js";
