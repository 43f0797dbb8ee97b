export type { AgentEvent, Backend, LaunchPlan } from "./backend/backend.js";
export { codexBackend } from "./backend/codex.js";
export { Baton, type BatonOptions, type PollOptions, type SpawnOptions } from "./client/baton.js";
export { BatonError, type BatonErrorCode } from "./errors.js";
export { resolveHome } from "./store/home.js";
export type { PollResult, WaitResult } from "./supervisor/supervisor.js";
export { WORKER_PREAMBLE, workerPrompt } from "./worker/prompt.js";
export { type FinalState, isFinal, type WorkerState } from "./worker/state.js";
export type { EndReason, Role, Scope, Usage, WorkerInfo, WorkerResult, WorkerSpec } from "./worker/types.js";
