import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DIR_MODE, writeFileAtomic } from "../store/atomic.js";
import { inStore } from "../store/no-follow.js";
import { readJson } from "../store/read-json.js";
import type { Usage } from "../worker/types.js";

// Where each worker of a workspace on a queue went: its job, the host running it, the hosts it was lost
// with. One file a worker in `.baton/queue/`, written before its job is added, so that a coordinator
// killed at any point finds, when it starts again, every job it may have added.

/** A worker's place on the queue. */
export interface Placement {
  /** Its job now: `w3-d0`, then `w3-d1` after a `baton resume`, ... */
  readonly job: string;
  readonly dispatch: number;
  /** The job was added to Redis (if Redis no longer has it, Redis lost it). */
  readonly added: boolean;
  /** The host that runs it (or ran it last). */
  readonly host?: string;
  /** Hosts that died (or lost Redis) while running it, in order. */
  readonly lostHosts: readonly string[];
  /** How the last host to take it over began: in the agent's own thread, or from the prompt again. */
  readonly resumed?: "thread" | "rerun";
  /** The host run feeding it now, and where that run's transcript begins in the coordinator's. */
  readonly run?: string;
  readonly runStart?: number;
  /** Usage of the host runs before this one (hosts lost, or earlier dispatches). */
  readonly priorUsage?: Usage;
}

const placement = z.object({
  job: z.string().max(40),
  dispatch: z.number().int().min(0),
  added: z.boolean(),
  host: z.string().max(64).optional(),
  lostHosts: z.array(z.string().max(64)).max(1_000),
  resumed: z.enum(["thread", "rerun"]).optional(),
  run: z.string().max(120).optional(),
  runStart: z.number().int().min(0).optional(),
  priorUsage: z
    .object({
      inputTokens: z.number(),
      cachedInputTokens: z.number(),
      outputTokens: z.number(),
      reasoningOutputTokens: z.number(),
    })
    .optional(),
});

export class Placements {
  private readonly known = new Map<string, Placement>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly dir: string;

  private constructor(private readonly home: string) {
    this.dir = join(home, "queue");
  }

  /** Reads every stored placement; one that cannot be read is left out (its worker is then lost). */
  static async load(home: string): Promise<Placements> {
    const placements = new Placements(home);
    await inStore(home, placements.dir, (at) => mkdir(at, { mode: DIR_MODE }).catch(() => {}));
    const names = await readdir(placements.dir).catch(() => [] as string[]);
    for (const name of names) {
      const id = /^(w[1-9][0-9]{0,8})\.json$/.exec(name)?.[1];
      if (!id) continue;
      const read = await readJson(home, join(placements.dir, name), placement);
      if (read.ok) placements.known.set(id, read.value);
    }
    return placements;
  }

  get(id: string): Placement | undefined {
    return this.known.get(id);
  }

  /** Changes a worker's placement now, and writes it (one write at a time per worker). */
  set(id: string, value: Placement): Promise<void> {
    this.known.set(id, value);
    const path = join(this.dir, `${id}.json`);
    const write = (this.writes.get(id) ?? Promise.resolve()).then(() =>
      inStore(this.home, path, (at) => writeFileAtomic(at, `${JSON.stringify(value)}\n`)).then(() => {}),
    );
    this.writes.set(
      id,
      write.catch(() => {}),
    );
    return write;
  }
}
