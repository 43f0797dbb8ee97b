import { mkdirSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { BatonError } from "../errors.js";
import type { WorkerResult, WorkerSpec, WorkerStatus } from "../worker/types.js";
import { DIR_MODE, writeFileAtomic } from "./atomic.js";
import { Ledger, type StoreDamage } from "./integrity.js";
import { appendStoreFile, inStore, inStoreSync, readStoreFile } from "./no-follow.js";
import { prepareHome } from "./open.js";
import { type Publication, publish, publishAll } from "./publish.js";
import { type ReadOutcome, readJson } from "./read-json.js";
import { cursorsSchema, resultSchema, specSchema, statusSchema } from "./schema.js";
import { guarded } from "./store-error.js";
import { openLog, readTranscript, transcriptSize } from "./worker-logs.js";

export type { ReadOutcome, ReadProblem } from "./read-json.js";
export { storeError } from "./store-error.js";

export const WORKER_ID = /^w[1-9][0-9]{0,8}$/;

/** The files the supervisor vouches for: a change to one of them under it is reported as damage. */
const WITNESSED: readonly WorkerFile[] = [
  "spec.json",
  "prompt.txt",
  "output-schema.json",
  "status.json",
  "result.json",
];

/**
 * The run store: one folder per worker under `<home>/workers/`. Mutable files are replaced atomically;
 * results are written once; logs are append-only and readers tolerate a torn last line. Nothing in it
 * is opened through a symbolic link (see no-follow.ts), and a file changed under the supervisor is
 * reported by {@link Store.damage}.
 */
export class Store {
  private readonly ledger = new Ledger((id, file, what) => this.onDamage?.(id, file, what));
  /** Told of each damage to a worker's files the first time it is found (the supervisor's events). */
  onDamage: ((id: string, file: string, what: string) => void) | undefined;

  private constructor(readonly home: string) {}

  /** Opens (creating if needed) the store at `home`, owner-only, refusing a symlinked folder. */
  static async open(home: string): Promise<Store> {
    await prepareHome(home);
    return new Store(home);
  }

  workerDir(id: string): string {
    if (!WORKER_ID.test(id))
      throw new BatonError("usage", `"${id}" is not a worker id: ids look like w1, w2, ...`);
    return join(this.home, "workers", id);
  }

  file(id: string, name: WorkerFile): string {
    return join(this.workerDir(id), name);
  }

  /** Worker ids in spawn order. */
  async workerIds(): Promise<string[]> {
    const names = await readdir(join(this.home, "workers")).catch(() => [] as string[]);
    return names
      .filter((name) => WORKER_ID.test(name))
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  }

  async createWorker(
    spec: WorkerSpec,
    prompt: string,
    status: WorkerStatus,
    outputSchema?: unknown,
  ): Promise<void> {
    const dir = this.workerDir(spec.id);
    // Made at once, not through the thread pool: the spawns of a burst (one `spawn` of several tasks)
    // are then all stored before the first of them starts, and their agents start one after the
    // other. A folder made on the pool came back only after every start already queued (each holds
    // the event loop for a millisecond or more), and its worker started last, tens of ms later.
    await guarded(this.home, dir, async () =>
      inStoreSync(this.home, dir, (at) => mkdirSync(at, { mode: DIR_MODE })),
    );
    const file = (name: WorkerFile, data: string, how: Publication["how"]): Publication => ({
      id: spec.id,
      name,
      path: this.file(spec.id, name),
      data,
      how,
      durable: false,
    });
    try {
      await publishAll(this.home, this.ledger, [
        file("prompt.txt", prompt, "once"),
        ...(outputSchema === undefined ? [] : [file("output-schema.json", json(outputSchema), "once")]),
        file("spec.json", json(spec), "once"),
        file("status.json", json(status), "replace"),
      ]);
    } catch (error) {
      // A worker is stored whole or not at all: no half-made folder is left for a later load to trip on.
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
  }

  async writeStatus(status: WorkerStatus): Promise<void> {
    await this.publish(status.id, "status.json", json(status), "rewrite");
  }

  /**
   * Writes the result once; returns false if the supervisor had written it already (it is kept). A
   * result.json that someone else put there first is moved aside as damage, and this one written.
   */
  writeResult(result: WorkerResult): Promise<boolean> {
    return this.publish(result.id, "result.json", json(result), "once", true);
  }

  /** Writes a file of Baton's own for the worker (e.g. `resume.txt`), replacing it whole. */
  async writeText(id: string, name: WorkerFile, text: string): Promise<void> {
    const path = this.file(id, name);
    await guarded(this.home, path, () => inStore(this.home, path, (at) => writeFileAtomic(at, text)));
  }

  /**
   * Files of worker `id` that changed under the supervisor since it wrote or read them, or that were
   * planted where it writes. One lstat per file: cheap enough for every `ls`.
   */
  damage(id: string): StoreDamage[] {
    for (const name of WITNESSED) this.ledger.check(id, name, this.file(id, name));
    return this.ledger.damage(id);
  }

  /** A file the supervisor vouches for (see publish.ts). */
  private publish(
    id: string,
    name: WorkerFile,
    data: string,
    how: "once" | "replace" | "rewrite",
    durable = false,
  ): Promise<boolean> {
    return publish(this.home, this.ledger, { id, name, path: this.file(id, name), data, how, durable });
  }

  /** Each reader's poll cursor; a missing or unreadable file means none (output is shown again, not lost). */
  async readCursors(id: string): Promise<Map<string, number>> {
    const read = await readJson(this.home, this.file(id, "cursors.json"), cursorsSchema);
    return new Map(read.ok ? Object.entries(read.value) : []);
  }

  async writeCursors(id: string, cursors: ReadonlyMap<string, number>): Promise<void> {
    await this.writeText(id, "cursors.json", json(Object.fromEntries(cursors)));
  }

  readSpec(id: string): Promise<ReadOutcome<WorkerSpec>> {
    return this.readWitnessed(this.file(id, "spec.json"), specSchema) as Promise<ReadOutcome<WorkerSpec>>;
  }

  readStatus(id: string): Promise<ReadOutcome<WorkerStatus>> {
    return this.readWitnessed(this.file(id, "status.json"), statusSchema) as Promise<
      ReadOutcome<WorkerStatus>
    >;
  }

  readResult(id: string): Promise<ReadOutcome<WorkerResult>> {
    return this.readWitnessed(this.file(id, "result.json"), resultSchema) as Promise<
      ReadOutcome<WorkerResult>
    >;
  }

  async readText(id: string, name: WorkerFile): Promise<string | undefined> {
    const path = this.file(id, name);
    return guarded(this.home, path, async () => (await readStoreFile(this.home, path))?.text);
  }

  appendEvent(id: string, event: unknown): Promise<void> {
    const path = this.file(id, "events.jsonl");
    return guarded(this.home, path, () => appendStoreFile(this.home, path, `${JSON.stringify(event)}\n`));
  }

  /**
   * Opens one of the worker's logs for appending; the caller writes it synchronously and closes it.
   * A link planted in its place is moved aside and reported as damage (see worker-logs.ts).
   */
  openLog(id: string, name: "transcript.log" | "events.jsonl"): number {
    return openLog(this.home, this.file(id, name), (what) => this.ledger.note(id, name, what));
  }

  /** The transcript's size in bytes; 0 if there is none (see worker-logs.ts). */
  async transcriptSize(id: string): Promise<number> {
    const note = (what: string) => this.ledger.note(id, "transcript.log", what);
    return transcriptSize(this.home, this.file(id, "transcript.log"), note);
  }

  /** Reads `length` bytes of the transcript from `offset`. */
  async readTranscript(id: string, offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    return readTranscript(this.home, this.file(id, "transcript.log"), offset, length);
  }

  /** A JSON file the supervisor vouches for as read: a later change to it is damage. */
  private readWitnessed<T>(path: string, schema: z.ZodType<T>): Promise<ReadOutcome<T>> {
    return readJson(this.home, path, schema, (stats) => this.ledger.settle(path, stats));
  }
}

export type WorkerFile =
  | "spec.json"
  | "prompt.txt"
  | "status.json"
  | "result.json"
  | "events.jsonl"
  | "transcript.log"
  | "last-message.txt"
  | "output-schema.json"
  | "resume.txt"
  | "cursors.json";

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
