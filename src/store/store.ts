import { constants, lstatSync, renameSync, type Stats } from "node:fs";
import { access, lstat, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import { join, relative } from "node:path";
import type { z } from "zod";
import { BatonError, errnoOf } from "../errors.js";
import type { WorkerResult, WorkerSpec, WorkerStatus } from "../worker/types.js";
import { DIR_MODE, FILE_MODE, writeFileAtomic, writeOnce } from "./atomic.js";
import { claimHome } from "./home.js";
import { Ledger, type StoreDamage } from "./integrity.js";
import {
  APPEND,
  appendStoreFile,
  damageError,
  inStore,
  inStoreSync,
  lstatInStore,
  openStoreFile,
  openStoreFileSync,
  readStoreFile,
  StoreDamageError,
} from "./no-follow.js";
import { cursorsSchema, resultSchema, specSchema, statusSchema } from "./schema.js";

export const WORKER_ID = /^w[1-9][0-9]{0,8}$/;

/** A stored file that could not be read back, and why. */
export type ReadProblem =
  | { readonly kind: "missing" }
  | { readonly kind: "corrupt"; readonly detail: string };
export type ReadOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | ({ readonly ok: false } & ReadProblem);

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
    try {
      // Not `recursive: true`: Node's recursive mkdir never returns under /proc.
      await makeDir(home);
      // Checked before anything is made inside: through a symlink it would land somewhere else.
      for (const dir of [home, join(home, "workers")]) {
        if (dir !== home) await makeDir(dir);
        const info = await lstat(dir);
        if (info.isSymbolicLink() || !info.isDirectory()) {
          throw new BatonError(
            "store",
            `the run store ${dir} is not a plain folder: remove it or set BATON_HOME`,
          );
        }
        if (dir === home) await claimHome(home); // never take over (or chmod) a folder Baton did not make
      }
      await access(home, constants.W_OK);
      await access(join(home, "workers"), constants.W_OK);
      await probeWrite(join(home, "workers"));
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(home, error);
    }
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
    await this.guard(dir, () => inStore(this.home, dir, (at) => mkdir(at, { mode: DIR_MODE })));
    try {
      await this.publish(spec.id, "prompt.txt", prompt, "once");
      if (outputSchema !== undefined)
        await this.publish(spec.id, "output-schema.json", json(outputSchema), "once");
      await this.publish(spec.id, "spec.json", json(spec), "once");
      await this.publish(spec.id, "status.json", json(status), "replace");
    } catch (error) {
      // A worker is stored whole or not at all: no half-made folder is left for a later load to trip on.
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
  }

  async writeStatus(status: WorkerStatus): Promise<void> {
    await this.publish(status.id, "status.json", json(status), "replace");
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
    await this.guard(path, () => inStore(this.home, path, (at) => writeFileAtomic(at, text)));
  }

  /**
   * Files of worker `id` that changed under the supervisor since it wrote or read them, or that were
   * planted where it writes. One lstat per file: cheap enough for every `ls`.
   */
  damage(id: string): StoreDamage[] {
    for (const name of WITNESSED) this.ledger.check(id, name, this.file(id, name));
    return this.ledger.damage(id);
  }

  /**
   * Writes a file the supervisor vouches for, once (a link, never over an existing file) or by atomic
   * replace, in the worker's folder reached without following links. What the new file looks like is
   * recorded, so that a later change to it shows as damage.
   *
   * Whole or not at all against any crash of a process, always. Only a `durable` write (the result)
   * also survives a power loss: a spawn's files and a status are not flushed to disk one by one (that
   * was three flushes a spawn and one a status change); after a power loss they may be missing or
   * empty, which a read reports as missing or corrupt, never as another worker's or a half file.
   */
  private publish(
    id: string,
    name: WorkerFile,
    data: string,
    how: "once" | "replace",
    durable = false,
  ): Promise<boolean> {
    const path = this.file(id, name);
    return this.guard(path, () =>
      inStore(this.home, path, async (at) => {
        const options = { durable, beforePublish: (written: Stats) => this.ledger.expect(path, written) };
        if (how === "replace") {
          this.ledger.check(id, name, path); // what is replaced is checked first: its damage stays reported
          this.settle(id, name, at, await writeFileAtomic(at, data, options));
          return true;
        }
        let written = await writeOnce(at, data, options);
        if (!written) {
          this.ledger.check(id, name, path);
          if (this.ledger.vouches(path) && !this.ledger.damage(id).some((d) => d.file === name)) return false; // the supervisor's own, written before
          // Not the supervisor's: kept aside for a person to look at, and the real one written.
          this.ledger.note(id, name, "was put there before Baton wrote it (kept aside as .damaged)");
          await rename(at, `${at}.damaged-${Date.now()}`);
          written = await writeOnce(at, data, options);
          if (!written) throw damageError(this.home, path, "keeps being replaced");
        }
        this.settle(id, name, at, written);
        return true;
      }),
    );
  }

  /** Records what the supervisor just published at `at`; a different file there means someone raced it. */
  private settle(id: string, name: WorkerFile, at: string, written: Stats): void {
    let found: Stats | undefined;
    try {
      found = lstatSync(at);
    } catch {}
    if (!this.ledger.settle(this.file(id, name), found, written))
      this.ledger.note(id, name, "was replaced while Baton wrote it");
  }

  /** Each reader's poll cursor; a missing or unreadable file means none (output is shown again, not lost). */
  async readCursors(id: string): Promise<Map<string, number>> {
    const read = await this.readJson(this.file(id, "cursors.json"), cursorsSchema);
    return new Map(read.ok ? Object.entries(read.value) : []);
  }

  async writeCursors(id: string, cursors: ReadonlyMap<string, number>): Promise<void> {
    await this.writeText(id, "cursors.json", json(Object.fromEntries(cursors)));
  }

  readSpec(id: string): Promise<ReadOutcome<WorkerSpec>> {
    return this.readJson(this.file(id, "spec.json"), specSchema, true) as Promise<ReadOutcome<WorkerSpec>>;
  }

  readStatus(id: string): Promise<ReadOutcome<WorkerStatus>> {
    return this.readJson(this.file(id, "status.json"), statusSchema, true) as Promise<
      ReadOutcome<WorkerStatus>
    >;
  }

  readResult(id: string): Promise<ReadOutcome<WorkerResult>> {
    return this.readJson(this.file(id, "result.json"), resultSchema, true) as Promise<
      ReadOutcome<WorkerResult>
    >;
  }

  async readText(id: string, name: WorkerFile): Promise<string | undefined> {
    const path = this.file(id, name);
    return this.guard(path, async () => (await readStoreFile(this.home, path))?.text);
  }

  appendEvent(id: string, event: unknown): Promise<void> {
    const path = this.file(id, "events.jsonl");
    return this.guard(path, () => appendStoreFile(this.home, path, `${JSON.stringify(event)}\n`));
  }

  /**
   * Opens one of the worker's logs for appending; the caller writes it synchronously and closes it.
   * A link (or anything but a file) planted in its place is moved aside and reported as damage, so
   * that the worker still runs and its output lands in the store, not where the link pointed.
   */
  openLog(id: string, name: "transcript.log" | "events.jsonl"): number {
    const path = this.file(id, name);
    try {
      return openStoreFileSync(this.home, path, APPEND);
    } catch (error) {
      if (!(error instanceof StoreDamageError)) throw storeError(this.home, error, path);
      this.ledger.note(id, name, `${error.what} (kept aside as .damaged)`);
      try {
        inStoreSync(this.home, path, (at) => renameSync(at, `${at}.damaged-${Date.now()}`));
        return openStoreFileSync(this.home, path, APPEND);
      } catch {
        throw error;
      }
    }
  }

  /**
   * The transcript's size in bytes; 0 if there is none. Something else in its place (a link, a
   * folder) is noted as damage; its size is given all the same, so that a read of it says what is wrong.
   */
  async transcriptSize(id: string): Promise<number> {
    const path = this.file(id, "transcript.log");
    try {
      const found = lstatInStore(this.home, path);
      if (found && !found.isFile())
        this.ledger.note(
          id,
          "transcript.log",
          found.isSymbolicLink() ? "is a symbolic link" : "is not a file",
        );
      return found?.size ?? 0;
    } catch {
      return 0;
    }
  }

  /** Reads `length` bytes of the transcript from `offset`. */
  async readTranscript(id: string, offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    const path = this.file(id, "transcript.log");
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await openStoreFile(this.home, path);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return Buffer.alloc(0);
      if (error instanceof BatonError) throw error;
      throw storeError(this.home, error, path);
    } finally {
      await handle?.close();
    }
  }

  /**
   * A JSON file of the store, parsed and checked. With `witness`, the file as read is what the
   * supervisor vouches for from then on: a later change to it is damage.
   */
  private async readJson<T>(path: string, schema: z.ZodType<T>, witness = false): Promise<ReadOutcome<T>> {
    let text: string;
    try {
      const read = await readStoreFile(this.home, path);
      if (!read) return { ok: false, kind: "missing" };
      text = read.text;
      if (witness) this.ledger.settle(path, read.stats);
    } catch (error) {
      return {
        ok: false,
        kind: "corrupt",
        detail:
          error instanceof BatonError
            ? error.message
            : `cannot read ${path}: ${errnoOf(error) ?? String(error)}`,
      };
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { ok: false, kind: "corrupt", detail: `${path} is not valid JSON` };
    }
    const parsed = schema.safeParse(dropNulls(data));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, kind: "corrupt", detail: `${path}: ${issue?.path.join(".")} ${issue?.message}` };
    }
    return { ok: true, value: parsed.data };
  }

  /** Runs a write of `path`, turning a failure into a one-line store error that names the file. */
  private async guard<T>(path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(this.home, error, path);
    }
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

async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIR_MODE });
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return;
    if (errnoOf(error) === "ENOENT") {
      throw new BatonError("store", `cannot create the run store ${path}: its parent folder does not exist`);
    }
    throw error;
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** JSON has no `undefined`; optional fields are simply absent. Nulls from hand edits count as absent. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, dropNulls(v)]),
    );
  }
  return value;
}

/** Proves that files can be created and written in `dir`: a full disk passes every permission check. */
async function probeWrite(dir: string): Promise<void> {
  const path = join(dir, `.probe-${process.pid}`);
  await unlink(path).catch(() => {}); // left by a crash, or planted: never written through
  try {
    const handle = await open(path, PROBE, FILE_MODE);
    try {
      await handle.writeFile("probe\n");
    } finally {
      await handle.close();
    }
  } finally {
    await unlink(path).catch(() => {});
  }
}

const PROBE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * A one-line error for a failed read or write in the run store at `home`, naming the file (`path`, or
 * the one the system error names) and what to do.
 */
export function storeError(home: string, error: unknown, path?: string): BatonError {
  const code = errnoOf(error);
  const cause = error as { dest?: unknown; path?: unknown } | null;
  const named = path ?? cause?.dest ?? cause?.path;
  const file = typeof named === "string" && named !== home ? relative(home, named) : undefined;
  const at = file ? ` (${file})` : "";
  const message =
    code === "ENOSPC" || code === "EDQUOT"
      ? `the run store ${home} is on a full disk${at}: free some space on it, or set BATON_HOME to another folder`
      : code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? `the run store ${home} is not writable${at}: make it writable, or set BATON_HOME to another folder`
        : code === "EISDIR" || code === "ENOTDIR"
          ? `the run store ${home} is damaged: ${file ?? "a file in it"} is not a file: restore it, or remove the worker's folder`
          : `the run store ${home} failed${at} (${code ?? String(error)}): check its disk, or set BATON_HOME to another folder`;
  return new BatonError("store", message, { cause: error });
}
