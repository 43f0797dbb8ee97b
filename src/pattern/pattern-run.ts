import type { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";
import type { PublishedBody } from "../events/types.js";
import type { Agent } from "../merge/index.js";
import { PlanStore } from "../plan/index.js";
import { defaultScope, renderWorkerPrompt } from "../roles/index.js";
import { WORKER_ID } from "../store/store.js";
import { isFinal } from "../worker/state.js";
import type { WorkerResult } from "../worker/types.js";
import { agentFor, namedAgent } from "./run-agents.js";
import type { PatternRunOptions, RunEvent, WorkerAsk } from "./run-options.js";
import type { RunRecord } from "./run-record.js";

export type { PatternRunOptions, RunEvent, WorkerAsk } from "./run-options.js";
export { fromSettings, runSettings } from "./run-options.js";

/** The toolkit a pattern works with: workers, its plan, and its record. */
export class PatternRun {
  readonly plan: PlanStore;
  /** Workers of the record already handed out again during a resume. */
  private readonly claimed = new Set<string>();

  constructor(
    readonly baton: Baton,
    readonly record: RunRecord,
    readonly options: PatternRunOptions,
  ) {
    this.plan = new PlanStore(record.dir);
  }

  /** Sets the run's plan: these steps, the first in progress. */
  async planSteps(steps: readonly string[], explanation: string): Promise<void> {
    await this.plan.set(steps, explanation);
    this.emit({ type: "step", step: steps[0] ?? "" });
    if (steps[0]) await this.stepStarted(steps[0]);
  }

  /** Completes the current plan step and starts the next. */
  async nextStep(): Promise<void> {
    const { plan } = await this.plan.advance();
    await this.stepEnded();
    const current = plan.steps.find((s) => s.status === "in_progress");
    if (current) {
      this.emit({ type: "step", step: current.step });
      await this.stepStarted(current.step);
    }
  }

  /** The step in progress and the workers started in it, for the workspace's event stream. */
  private current: { step: string; workers: string[] } | undefined;

  private async stepStarted(step: string): Promise<void> {
    this.current = { step, workers: [] };
    await this.publish({ type: "step", run: this.record.id, step, phase: "started", workers: [] });
  }

  private async stepEnded(): Promise<void> {
    if (!this.current) return;
    const { step, workers } = this.current;
    this.current = undefined;
    await this.publish({ type: "step", run: this.record.id, step, phase: "ended", workers });
  }

  /** Tells the workspace's event stream; a stream that cannot be told does not stop the run. */
  private async publish(event: PublishedBody): Promise<void> {
    await this.baton.publish(event, this.options.signal).catch(() => {});
  }

  note(text: string): void {
    this.emit({ type: "note", text });
  }

  /** Starts still under way: a failed run waits for them, so that every worker it started is recorded. */
  private readonly starting = new Set<Promise<string>>();

  /**
   * Resolves once no worker is being started: when one start fails (a backend's binary missing, say)
   * while others are under way, their workers are in the record by then, for the run to stop them.
   */
  async settled(): Promise<void> {
    while (this.starting.size > 0) await Promise.allSettled([...this.starting]);
  }

  /** Starts a worker and returns its id (on a resume, the id of the worker that already did this). */
  async start(ask: WorkerAsk): Promise<string> {
    const starting = this.startWorker(ask);
    this.starting.add(starting);
    try {
      return await starting;
    } finally {
      this.starting.delete(starting);
    }
  }

  private async startWorker(ask: WorkerAsk): Promise<string> {
    this.options.signal?.throwIfAborted();
    const earlier = this.options.resume ? this.earlierWorker(ask) : undefined;
    if (earlier) {
      const reused = await this.reuse(earlier.id);
      if (reused) {
        const agent = this.agentOf(earlier.id);
        this.emit({ type: "worker_started", id: earlier.id, label: ask.label, step: ask.step, agent });
        return earlier.id;
      }
    }
    const agent = agentFor(this.options, ask);
    // The same rule as `baton spawn`: readers read; an implementer with no paths writes its cwd.
    const write = ask.write?.length ? ask.write : ask.role === "implementer" ? [this.options.cwd] : [];
    const scope = defaultScope(ask.role, write, this.options.cwd);
    const context = ask.context ?? this.options.context;
    const prompt =
      ask.body ??
      renderWorkerPrompt({
        task: ask.task,
        scope,
        ...(ask.role ? { role: ask.role } : {}),
        ...(ask.lens ? { lens: ask.lens } : {}),
        ...(context ? { context } : {}),
        ...(ask.role && this.options.templates?.[ask.role]
          ? { template: this.options.templates[ask.role] }
          : {}),
      });
    const id = await this.baton.spawn(
      {
        task: ask.task,
        prompt,
        label: `${this.record.id}:${ask.label}`,
        ...(ask.role ? { role: ask.role } : {}),
        // An implementer with no paths is left to the supervisor's rule: its cwd, less the run store.
        ...(ask.write?.length ? { write } : ask.role === "implementer" ? {} : { readOnly: true }),
        ...(ask.outputSchema ? { outputSchema: ask.outputSchema } : {}),
        cwd: this.options.cwd,
        ...(this.options.timeoutSeconds ? { timeoutSeconds: this.options.timeoutSeconds } : {}),
        ...(this.options.idleTimeoutSeconds ? { idleTimeoutSeconds: this.options.idleTimeoutSeconds } : {}),
        ...(this.options.maxTokens ? { maxTokens: this.options.maxTokens } : {}),
        ...(this.options.maxCostUsd ? { maxCostUsd: this.options.maxCostUsd } : {}),
        ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
        group: {
          id: this.record.id,
          ...(this.options.runMaxTokens ? { maxTokens: this.options.runMaxTokens } : {}),
          ...(this.options.runMaxCostUsd ? { maxCostUsd: this.options.runMaxCostUsd } : {}),
        },
        backend: agent.backend,
        ...(agent.model ? { model: agent.model } : {}),
        ...(agent.bin ? { bin: agent.bin } : {}),
        ...(agent.agentCommand ? { agentCommand: agent.agentCommand } : {}),
        ...(ask.search === undefined ? {} : { search: ask.search }),
      },
      // Not aborted half way: a spawn the supervisor may already have started must be recorded, or a
      // Ctrl+C at the wrong moment would leave a worker running that the run does not know to stop.
    );
    const named = namedAgent(agent);
    // The record keeps the backend it ran on and, for a named agent, the name (what the run shows).
    const worker = {
      id,
      step: ask.step,
      label: ask.label,
      ...named,
      backend: agent.backend,
      ...(agent.agent ? { agent: agent.agent } : {}),
    };
    if (earlier) await this.record.replaceWorker(earlier.id, worker);
    else await this.record.addWorker(worker);
    this.current?.workers.push(id);
    this.emit({ type: "worker_started", id, label: ask.label, step: ask.step, agent: named });
    this.options.signal?.throwIfAborted();
    return id;
  }

  /**
   * The backend and model a worker of this run ran on, as its record holds them (a record from before
   * backends were recorded: none).
   */
  agentOf(id: string): Agent {
    const worker = this.record.workers.find((w) => w.id === id);
    return {
      ...(worker?.backend ? { backend: worker.agent ?? worker.backend } : {}),
      ...(worker?.model ? { model: worker.model } : {}),
    };
  }

  /** The next worker of the record, not yet handed out, that did the same step under the same label. */
  private earlierWorker(ask: WorkerAsk): { id: string } | undefined {
    const found = this.record.workers.find(
      (w) => w.step === ask.step && w.label === ask.label && !this.claimed.has(w.id),
    );
    if (found) this.claimed.add(found.id);
    return found;
  }

  /** Whether an earlier worker can stand for this one: yes unless it was canceled or is gone. */
  private async reuse(id: string): Promise<boolean> {
    if (!WORKER_ID.test(id)) return false; // not a worker's id: nothing to stand for it
    const { workers } = await this.baton.list(this.options.signal, { workers: [id] });
    const state = workers.find((w) => w.id === id)?.state;
    if (state === undefined || state === "canceled") return false;
    if (state === "lost") {
      await this.baton.resume([id], this.options.signal);
      this.note(`${id} was lost with its supervisor: resumed`);
    } else if (state === "queued" || state === "running")
      this.note(`${id} is still ${state}: waiting for it`);
    else this.note(`${id} already ${state}: not run again`);
    return true;
  }

  /** Waits for workers and returns their results, in the order given; each is announced as it ends. */
  async finish(ids: readonly string[], labels: readonly string[] = []): Promise<WorkerResult[]> {
    const results = new Map<string, WorkerResult>();
    let left = [...new Set(ids)];
    while (left.length > 0) {
      const { workers } = await this.baton.wait(left, { any: true }, this.options.signal);
      const ended = workers.filter((w) => isFinal(w.state)).map((w) => w.id);
      for (const id of ended) {
        const result = await this.baton.result(id, this.options.signal);
        const model = reportedModel(result);
        if (model) await this.record.setModel(id, model);
        results.set(id, result);
        this.emit({ type: "worker_ended", id, label: labels[ids.indexOf(id)] ?? id, result });
      }
      left = left.filter((id) => !results.has(id));
    }
    return ids.map((id) => results.get(id)!);
  }

  /** Runs the workers in parallel and returns their results in order. */
  async all(asks: readonly WorkerAsk[]): Promise<WorkerResult[]> {
    const ids: string[] = [];
    for (const ask of asks) ids.push(await this.start(ask));
    return this.finish(
      ids,
      asks.map((a) => a.label),
    );
  }

  /** Runs one worker to its end. */
  async one(ask: WorkerAsk): Promise<WorkerResult> {
    const [result] = await this.all([ask]);
    return result!;
  }

  /**
   * Runs a worker that must answer in a structured form. An answer `parse` rejects is asked for once
   * more, with the reason; a second bad answer is returned as invalid, never forwarded raw.
   */
  async structured<T>(
    ask: WorkerAsk,
    parse: (answer: string) => { ok: true; value: T } | { ok: false; error: string },
  ): Promise<Structured<T>> {
    const first = await this.one(ask);
    const parsed = parse(first.answer);
    if (parsed.ok || first.state !== "succeeded") {
      return parsed.ok
        ? { ok: true, value: parsed.value, result: first }
        : { ok: false, error: failure(first), result: first };
    }
    this.note(`${ask.label} (${first.id}) answered in the wrong form (${parsed.error}); asking once more`);
    const retry = await this.one({
      ...ask,
      label: `${ask.label}-retry`,
      task: `${ask.task}\n\nYOUR PREVIOUS ANSWER WAS REJECTED: ${parsed.error}\nAnswer again with only the JSON object the schema asks for.`,
    });
    const again = parse(retry.answer);
    if (again.ok) return { ok: true, value: again.value, result: retry };
    return {
      ok: false,
      error:
        retry.state === "succeeded" ? `answered in the wrong form twice: ${again.error}` : failure(retry),
      result: retry,
    };
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(event);
  }
}

/** The model the agent said it ran, where its result carries one. */
function reportedModel(result: WorkerResult): string | undefined {
  const model = (result as { readonly model?: unknown }).model;
  return typeof model === "string" && model !== "" ? model : undefined;
}

export type Structured<T> =
  | { readonly ok: true; readonly value: T; readonly result: WorkerResult }
  | { readonly ok: false; readonly error: string; readonly result: WorkerResult };

function failure(result: WorkerResult): string {
  return result.state === "succeeded" ? "no usable answer" : `worker ${result.id} ${result.state}`;
}

export function requireSucceeded(result: WorkerResult, what: string): string {
  if (result.state !== "succeeded") {
    throw new BatonError(
      "backend",
      `${what} (${result.id}) ${result.state}: see \`baton logs ${result.id}\``,
    );
  }
  return result.answer.trim();
}
