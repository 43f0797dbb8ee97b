import type { Backend, LiveUsage } from "../backend/backend.js";
import { totalTokens, type Usage, ZERO_USAGE } from "../worker/types.js";

/** How often live usage is read while a turn runs. */
const LIVE_USAGE_MS = 500;

/**
 * A worker's token usage over every attempt so far, growing while this attempt's turn runs: from what
 * the backend reads live (codex's session log), or the agent's own mid-turn `usage` events, and from
 * its turn-completed events. `onChange` is told whenever the total moves (budgets bite mid-turn).
 */
export class UsageMeter {
  usage: Usage;
  /** What this attempt alone has used so far. */
  attemptUsage: Usage = ZERO_USAGE;
  private live: LiveUsage | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** What this attempt's completed turns used. */
  private turns: Usage = ZERO_USAGE;
  /** The attempt's usage so far as the agent's own events report it mid-turn (`usage` events). */
  private reported: Usage | undefined;

  constructor(
    private readonly prior: Usage,
    private readonly backend: Backend,
    private readonly env: Record<string, string>,
    private readonly onChange: () => void,
  ) {
    this.usage = prior;
  }

  /** Reads the live usage of thread `threadId` while the turn runs, where the backend offers it. */
  follow(threadId: string): void {
    if (this.live || !this.backend.liveUsage) return;
    this.live = this.backend.liveUsage(threadId, this.env);
    // Real time, whatever the supervisor's clock: this reads a file the agent writes as it goes.
    this.timer = setInterval(() => this.refresh(), LIVE_USAGE_MS);
  }

  turnCompleted(usage: Usage): void {
    this.turns = addUsage(this.turns, usage);
    this.refresh();
  }

  midTurn(usage: Usage): void {
    this.reported = usage;
    this.refresh();
  }

  /** The model the agent's own log names, where the backend reads one live (codex's rollout log). */
  get liveModel(): string | undefined {
    return this.live?.model?.();
  }

  refresh(): void {
    const live = this.live?.read() ?? this.reported;
    const attempt = live && totalTokens(live) > totalTokens(this.turns) ? live : this.turns;
    this.attemptUsage = attempt;
    const next = addUsage(this.prior, attempt);
    if (totalTokens(next) === totalTokens(this.usage)) return;
    this.usage = next;
    this.onChange();
  }

  stop(): void {
    clearInterval(this.timer);
    this.live?.close?.();
  }
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
  };
}

/** What `a` has beyond `b` (never below zero). */
export function minusUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    reasoningOutputTokens: Math.max(0, a.reasoningOutputTokens - b.reasoningOutputTokens),
  };
}
