import { constants, createWriteStream, openSync, type WriteStream } from "node:fs";
import {
  access,
  appendFile,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { join, relative } from "node:path";
import type { z } from "zod";
import { BatonError, errnoOf } from "../errors.js";
import type { WorkerResult, WorkerSpec, WorkerStatus } from "../worker/types.js";
import { DIR_MODE, FILE_MODE, writeFileAtomic, writeFileOnce } from "./atomic.js";
import { cursorsSchema, resultSchema, specSchema, statusSchema } from "./schema.js";

export const WORKER_ID = /^w[1-9][0-9]{0,8}$/;

/** A stored file that could not be read back, and why. */
export type ReadProblem =
  | { readonly kind: "missing" }
  | { readonly kind: "corrupt"; readonly detail: string };
export type ReadOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | ({ readonly ok: false } & ReadProblem);

/**
 * The run store: one folder per worker under `<home>/workers/`. Mutable files are replaced atomically;
 * results are written once; logs are append-only and readers tolerate a torn last line.
 */
export class Store {
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
    await this.guard(dir, () => mkdir(dir, { mode: DIR_MODE }));
    try {
      const write = async (name: WorkerFile, data: string, put: Put = writeFileOnce) => {
        const path = join(dir, name);
        await this.guard(path, () => put(path, data));
      };
      await write("prompt.txt", prompt);
      if (outputSchema !== undefined) await write("output-schema.json", json(outputSchema));
      await write("spec.json", json(spec));
      await write("status.json", json(status), writeFileAtomic);
    } catch (error) {
      // A worker is stored whole or not at all: no half-made folder is left for a later load to trip on.
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
  }

  writeStatus(status: WorkerStatus): Promise<void> {
    const path = this.file(status.id, "status.json");
    return this.guard(path, () => writeFileAtomic(path, json(status)));
  }

  /** Writes the result once; returns false if one was already there (it is kept). */
  writeResult(result: WorkerResult): Promise<boolean> {
    const path = this.file(result.id, "result.json");
    return this.guard(path, () => writeFileOnce(path, json(result)));
  }

  /** Each reader's poll cursor; a missing or unreadable file means none (output is shown again, not lost). */
  async readCursors(id: string): Promise<Map<string, number>> {
    const read = await this.readJson(this.file(id, "cursors.json"), cursorsSchema);
    return new Map(read.ok ? Object.entries(read.value) : []);
  }

  writeCursors(id: string, cursors: ReadonlyMap<string, number>): Promise<void> {
    const path = this.file(id, "cursors.json");
    return this.guard(path, () => writeFileAtomic(path, json(Object.fromEntries(cursors))));
  }

  readSpec(id: string): Promise<ReadOutcome<WorkerSpec>> {
    return this.readJson(this.file(id, "spec.json"), specSchema) as Promise<ReadOutcome<WorkerSpec>>;
  }

  readStatus(id: string): Promise<ReadOutcome<WorkerStatus>> {
    return this.readJson(this.file(id, "status.json"), statusSchema) as Promise<ReadOutcome<WorkerStatus>>;
  }

  readResult(id: string): Promise<ReadOutcome<WorkerResult>> {
    return this.readJson(this.file(id, "result.json"), resultSchema) as Promise<ReadOutcome<WorkerResult>>;
  }

  async readText(id: string, name: WorkerFile): Promise<string | undefined> {
    const path = this.file(id, name);
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return undefined;
      throw storeError(this.home, error, path);
    }
  }

  appendEvent(id: string, event: unknown): Promise<void> {
    const path = this.file(id, "events.jsonl");
    return this.guard(path, () => appendFile(path, `${JSON.stringify(event)}\n`, { mode: FILE_MODE }));
  }

  /** Opens one of the worker's logs for appending; the caller writes it synchronously and closes it. */
  openLog(id: string, name: "transcript.log" | "events.jsonl"): number {
    const path = this.file(id, name);
    try {
      return openSync(path, "a", FILE_MODE);
    } catch (error) {
      throw storeError(this.home, error, path);
    }
  }

  /** An append-only stream for the worker's raw terminal output. */
  transcriptStream(id: string): WriteStream {
    return createWriteStream(this.file(id, "transcript.log"), { flags: "a", mode: FILE_MODE });
  }

  async transcriptSize(id: string): Promise<number> {
    try {
      return (await stat(this.file(id, "transcript.log"))).size;
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
      handle = await open(path, "r");
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return Buffer.alloc(0);
      throw storeError(this.home, error, path);
    } finally {
      await handle?.close();
    }
  }

  private async readJson<T>(path: string, schema: z.ZodType<T>): Promise<ReadOutcome<T>> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return { ok: false, kind: "missing" };
      return {
        ok: false,
        kind: "corrupt",
        detail: `cannot read ${path}: ${errnoOf(error) ?? String(error)}`,
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

type Put = (path: string, data: string) => Promise<unknown>;

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
  try {
    await writeFile(path, "probe\n", { mode: FILE_MODE, flag: "w" });
  } finally {
    await unlink(path).catch(() => {});
  }
}

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
