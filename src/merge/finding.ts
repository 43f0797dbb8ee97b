/** How bad a finding is, worst first; the order of this list is the ranking order. */
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A work a research worker cites; everything but the title may be unknown. */
export interface Source {
  readonly title: string;
  readonly url?: string;
  readonly authors?: string;
  readonly year?: string;
}

/** One issue as a single worker reported it. */
export interface Finding {
  readonly title: string;
  readonly severity: Severity;
  /** `path:line`, `path:12-14`, `path line 12`, a section name, or empty when there is no one place. */
  readonly location: string;
  readonly evidence: string;
  readonly recommendation: string;
  readonly sources?: readonly Source[];
}

/** Which agent a worker ran on: a backend (`codex`, `claude`, `gemini`) and the model, where known. */
export interface Agent {
  readonly backend?: string;
  /** The model it was asked for (or that the backend names for it); absent: the agent's own default. */
  readonly model?: string;
}

/** Everything one worker reported, the lens it was asked to look through, and the agent it ran on. */
export interface WorkerFindings extends Agent {
  readonly workerId: string;
  readonly lens: string;
  readonly findings: readonly Finding[];
}

/** One piece of evidence, kept with who saw it, through which lens, and on which backend and model. */
export interface Evidence extends Agent {
  readonly workerId: string;
  readonly lens: string;
  readonly text: string;
}

/** One issue after duplicates from all workers were folded together. */
export interface MergedFinding {
  readonly title: string;
  /** The highest severity any worker gave it. */
  readonly severity: Severity;
  readonly locations: readonly string[];
  /** Distinct, sorted. */
  readonly lenses: readonly string[];
  /** Distinct, sorted. */
  readonly workers: readonly string[];
  /**
   * The backends whose workers reported it, distinct and sorted (empty when not known): agreement across
   * models counts for more than agreement within one.
   */
  readonly backends: readonly string[];
  /** Every worker's evidence; none is dropped, even when two say the same. */
  readonly evidence: readonly Evidence[];
  /** Distinct. */
  readonly recommendations: readonly string[];
  /** Distinct by URL, or by title when there is no URL. */
  readonly sources: readonly Source[];
}

/** 0 for critical, 4 for info: lower is worse. */
export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);
