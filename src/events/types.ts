import type { Cost } from "../cost/types.js";
import type { WorkerState } from "../worker/state.js";
import type { EndReason, Role, Usage } from "../worker/types.js";

/**
 * Everything worth seeing in a workspace, one typed event each, in one stream. Every event has a
 * sequence number (1, 2, 3, ... for the life of the store, across supervisor restarts) and a time. A
 * reader that remembers the last `seq` it saw asks for the events after it, and misses none and sees
 * none twice.
 */
export type BatonEvent = EventHead & EventBody;

export interface EventHead {
  readonly seq: number;
  /** ISO time the supervisor recorded it. */
  readonly at: string;
}

export type EventBody =
  /** A worker was created (it is queued next). */
  | {
      readonly type: "spawned";
      readonly worker: string;
      readonly label: string | undefined;
      readonly role: Role | undefined;
      readonly backend: string;
      readonly run: string | undefined;
      readonly continues: string | undefined;
    }
  /** A worker's state moved (every move passes the guard in worker/state.ts); "new": just spawned. */
  | {
      readonly type: "state";
      readonly worker: string;
      readonly from: WorkerState | "new";
      readonly to: WorkerState;
      readonly reason: EndReason | undefined;
    }
  /** An attempt's agent process started (the first, a retry or a resume). */
  | { readonly type: "started"; readonly worker: string; readonly pid: number; readonly attempt: number }
  /** The agent's thread (session) id became known. */
  | { readonly type: "thread"; readonly worker: string; readonly threadId: string }
  /** The worker's token usage or cost grew (all attempts together): its cost as priced so far. */
  | {
      readonly type: "usage";
      readonly worker: string;
      readonly usage: Usage;
      readonly tokens: number;
      readonly cost?: Cost;
    }
  /** Output arrived: the transcript's size now (never its text: that is what `poll` is for). */
  | { readonly type: "output"; readonly worker: string; readonly bytes: number }
  /** A transient failure is being run again. */
  | { readonly type: "retry"; readonly worker: string; readonly retry: number; readonly reason: string }
  /** The worker's result is recorded: `result` serves it from now on. */
  | {
      readonly type: "answer";
      readonly worker: string;
      readonly state: WorkerState;
      readonly chars: number;
    }
  /** Files of the worker changed under the supervisor (see store/integrity.ts). */
  | { readonly type: "damage"; readonly worker: string; readonly files: readonly string[] }
  /** A problem with the store or with Baton itself, as `ls` lists them. */
  | { readonly type: "problem"; readonly text: string }
  /** The workspace's plan was written (`baton plan`). */
  | { readonly type: "plan"; readonly steps: number; readonly done: number }
  /** A pattern or workflow run started or ended. */
  | {
      readonly type: "run";
      readonly run: string;
      readonly pattern: string;
      readonly phase: "started" | "ended";
      readonly state: string | undefined;
    }
  /** A step of a run started or ended, with the workers it spawned. */
  | {
      readonly type: "step";
      readonly run: string;
      readonly step: string;
      readonly phase: "started" | "ended";
      readonly workers: readonly string[];
    };

export type EventType = EventBody["type"];

/** Every event type once: a type missing here, or one that is not a type, fails to compile. */
const TYPES: Record<EventType, true> = {
  spawned: true,
  state: true,
  started: true,
  thread: true,
  usage: true,
  output: true,
  retry: true,
  answer: true,
  damage: true,
  problem: true,
  plan: true,
  run: true,
  step: true,
};

/** Every event type, for a reader that asks for some only. */
export const EVENT_TYPES = Object.keys(TYPES) as [EventType, ...EventType[]];

/** The events a run may publish itself (it runs in the caller's process, not the supervisor's). */
export type PublishedBody = Extract<EventBody, { type: "plan" | "run" | "step" }>;

/** The worker an event is about, if any. */
export function workerOf(event: EventBody): string | undefined {
  return "worker" in event ? event.worker : undefined;
}

/** A batch of events, as the supervisor answers `events`. */
export interface EventBatch {
  readonly events: readonly BatonEvent[];
  /** Pass as `since` for the next batch: the last seq returned, or `since` itself if none. */
  readonly next: number;
  /** Events between `since` and the oldest one kept were dropped (the reader fell too far behind). */
  readonly missed: number;
}
