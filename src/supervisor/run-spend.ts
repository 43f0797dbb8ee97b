import type { AgentEvent, Backend } from "../backend/backend.js";
import type { Cost } from "../cost/cost.js";
import type { Usage, WorkerResult } from "../worker/types.js";
import { CostMeter, type Pricer, shippedPricer } from "./run-cost.js";
import { UsageMeter } from "./run-usage.js";

/** What an attempt starts from: what the earlier attempts used and cost, and how to price it. */
export interface SpendStart {
  readonly priorUsage: Usage;
  /** What earlier attempts cost, and the agent's figure for the thread before this attempt. */
  readonly priorCost?: Cost;
  readonly threadUsd?: number;
  /** The model the agent was asked for (`--model`, else the backend's default), until it says its own. */
  readonly model?: string;
  /** Prices its tokens. @default Baton's own table */
  readonly price?: Pricer;
}

/**
 * What a worker has used and spent, over every attempt so far, as this attempt's agent reports it: its
 * tokens (see UsageMeter), the model it runs (its events, or its own log, else what it was asked for)
 * and its cost in dollars (see CostMeter). `onChange` is told whenever any of them moves.
 */
export class RunSpend {
  private readonly meter: UsageMeter;
  private readonly costs: CostMeter;
  /** The model the agent's events name. */
  private reported: string | undefined;

  constructor(
    private readonly start: SpendStart,
    backend: Backend,
    env: Record<string, string>,
    private readonly onChange: () => void,
  ) {
    this.meter = new UsageMeter(start.priorUsage, backend, env, onChange);
    this.costs = new CostMeter(start.priorCost, start.threadUsd, start.price ?? shippedPricer);
  }

  get usage(): Usage {
    return this.meter.usage;
  }

  get model(): string | undefined {
    return this.reported ?? this.meter.liveModel ?? this.start.model;
  }

  get cost(): Cost | undefined {
    return this.costs.cost(this.meter.attemptUsage, this.model);
  }

  /** The agent's running total for its thread, as last reported. */
  get threadUsd(): number | undefined {
    return this.costs.threadUsd;
  }

  /** Reads the live usage (and model) of thread `threadId` while the turn runs, where the backend can. */
  follow(threadId: string): void {
    this.meter.follow(threadId);
  }

  /** Takes what an agent event says of usage, model or cost. */
  take(event: AgentEvent): void {
    if (event.type === "turn_completed") {
      this.meter.turnCompleted(event.usage);
      if (event.costUsd === undefined) return;
      this.costs.agentFigure(event.costUsd, this.meter.attemptUsage);
      this.onChange();
    } else if (event.type === "usage") {
      this.meter.midTurn(event.usage);
    } else if (event.type === "model" && event.model !== this.reported) {
      this.reported = event.model;
      this.onChange();
    }
  }

  /** Reads the live usage once more (the agent has ended). */
  refresh(): void {
    this.meter.refresh();
  }

  stop(): void {
    this.meter.stop();
  }

  /** The model, cost and thread total a result records, each where known. */
  recorded(): Pick<WorkerResult, "model" | "cost" | "threadUsd"> {
    const { model, cost, threadUsd } = this;
    return {
      ...(model ? { model } : {}),
      ...(cost ? { cost } : {}),
      ...(threadUsd !== undefined ? { threadUsd } : {}),
    };
  }
}

/** How an attempt starts: fresh, or continuing a recorded thread; and what earlier attempts used. */
export interface Attempt extends SpendStart {
  readonly resumeThreadId?: string;
  /** The prompt file for this attempt (a resume sends a short "continue" prompt). */
  readonly promptFile?: string;
  readonly threadId?: string;
}
