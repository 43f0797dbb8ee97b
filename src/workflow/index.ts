export { type LoadWorkflowOptions, loadWorkflow, WORKFLOW_FILE } from "./load.js";
export { type ParsedWorkflow, parseWorkflow } from "./parse.js";
export { resumeRun } from "./resume.js";
export { runWorkflow, type WorkflowRunOptions } from "./run.js";
export type { MergeStep, WorkerStep, Workflow, WorkflowStep } from "./types.js";
