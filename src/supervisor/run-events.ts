import type { AgentEvent, OutputParser } from "../backend/backend.js";
import { redactedJson } from "../store/redact.js";
import { AgentLines } from "./agent-lines.js";
import { type Clock, isoNow } from "./clock.js";
import type { RunLogs } from "./run-logs.js";
import type { RunSpend } from "./run-spend.js";

/**
 * What one attempt's agent has said, as events: parsed from its output line by line, redacted, kept
 * in order and appended to the events file; and what they tell of where the agent is (its thread, a
 * command running, a turn done, files changed).
 */
export class RunEvents {
  readonly all: AgentEvent[] = [];
  threadId: string | undefined;
  /** A command the agent started has not finished: silence is then the command's, not the model's. */
  commandRunning = false;
  /** The agent's one turn has completed (a backend whose agent ends after it): all it has left is to end. */
  answered = false;
  /** The attempt changed files (a writer's retry would not start from a clean slate). */
  changedFiles = false;
  private readonly lines = new AgentLines();

  constructor(
    private readonly parser: OutputParser,
    private readonly to: {
      readonly logs: RunLogs;
      readonly spend: RunSpend;
      /** The thread id changed. */
      readonly progress: () => void;
    },
    private readonly opts: {
      /** The environment's secret values, redacted from every event before it is kept. */
      readonly secrets: readonly string[];
      readonly endsAfterTurn: boolean;
      readonly threadId: string | undefined;
      readonly clock: Clock;
    },
  ) {
    this.threadId = opts.threadId;
  }

  /** The agent's output as it comes: each line it completes is parsed. */
  push(data: string): void {
    for (const line of this.lines.push(data)) this.take(this.parser.line(line));
  }

  /** The agent has ended: its last line without an end, and what the parser held back. */
  end(): void {
    const last = this.lines.end();
    if (last !== undefined) this.take(this.parser.line(last));
    this.take(this.parser.end?.() ?? []);
  }

  private take(events: readonly AgentEvent[]): void {
    const { secrets, clock } = this.opts;
    for (const parsed of events) {
      // Redacted before it is kept, so that the events file and the answer agree.
      const { json, value: event } = redactedJson(parsed, secrets);
      this.all.push(event);
      this.to.logs.event(isoNow(clock), json);
      if (event.type === "thread") {
        this.threadId = event.threadId;
        this.to.spend.follow(event.threadId);
        this.to.progress();
      } else if (event.type === "turn_completed" || event.type === "usage" || event.type === "model") {
        this.to.spend.take(event);
        if (event.type === "turn_completed") this.answered = this.opts.endsAfterTurn;
      } else if (event.type === "turn_started") {
        this.answered = false;
      } else if (event.type === "command") {
        this.commandRunning = event.status === "in_progress";
      } else if (event.type === "file_change") {
        this.changedFiles = true;
      }
    }
  }
}
