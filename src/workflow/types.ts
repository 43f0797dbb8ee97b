import type { ContextPack } from "../context/index.js";
import type { Role } from "../worker/types.js";

interface StepBase {
  readonly id: string;
  /** Steps whose final answers are given to this one. */
  readonly dependsOn: readonly string[];
  /** Every step that must end before this one starts: `dependsOn` and, for a merge, the merged steps. */
  readonly needs: readonly string[];
  /** The backend its workers run on, before the run's (`--backend`, the file's, the workspace's). */
  readonly backend?: string;
  /** The model its workers ask for; with no backend of its own, on the run's backend. */
  readonly model?: string;
}

/** A step run by workers: one, or one per `forEach` item, all in parallel. */
export interface WorkerStep extends StepBase {
  readonly kind: "worker";
  readonly task: string;
  readonly role?: Role;
  readonly lens?: string;
  /** Fan-out: one worker per item, `{{item}}` in the task and lens replaced by it. */
  readonly forEach?: readonly string[];
  /** Workers answer with findings (FINDINGS_JSON_SCHEMA); a malformed answer is asked for once more. */
  readonly structured: boolean;
  /** Absolute paths an implementer may change; empty for every other role, which runs read-only. */
  readonly write: readonly string[];
}

/** A deterministic merge of structured steps' findings, then a synthesis worker that writes from them. */
export interface MergeStep extends StepBase {
  readonly kind: "merge";
  readonly merge: readonly string[];
  /** What the synthesis worker is asked to do with the merged findings. */
  readonly task: string;
}

export type WorkflowStep = WorkerStep | MergeStep;

/** A workflow file, checked and resolved: ready to run. */
export interface Workflow {
  /** The file as the caller named it, for messages. */
  readonly file: string;
  readonly name: string;
  /** The workers' absolute working directory. */
  readonly cwd: string;
  readonly context?: ContextPack;
  /** The file's backend for every step that names none; `--backend` on the command line overrides it. */
  readonly backend?: string;
  /** The file's model for the workers on the run's backend; `--model` overrides it. */
  readonly model?: string;
  /** In file order. */
  readonly steps: readonly WorkflowStep[];
  /** Step ids by dependency level: level 0 needs nothing; each later level needs an earlier one. */
  readonly levels: readonly (readonly string[])[];
  /** The step whose output is the run's one result. */
  readonly result: string;
}
