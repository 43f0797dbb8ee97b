import { constants, createWriteStream, type WriteStream } from "node:fs";
import { access, appendFile, lstat, mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { BatonError, errnoOf } from "../errors.js";
import type { WorkerResult, WorkerSpec, WorkerStatus } from "../worker/types.js";
import { DIR_MODE, FILE_MODE, writeFileAtomic, writeFileOnce } from "./atomic.js";
import { resultSchema, specSchema, statusSchema } from "./schema.js";

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
    await this.guard(async () => {
      await mkdir(dir, { mode: DIR_MODE });
      await writeFileOnce(join(dir, "prompt.txt"), prompt);
      if (outputSchema !== undefined)
        await writeFileOnce(join(dir, "output-schema.json"), json(outputSchema));
      await writeFileOnce(join(dir, "spec.json"), json(spec));
      await writeFileAtomic(join(dir, "status.json"), json(status));
    });
  }

  writeStatus(status: WorkerStatus): Promise<void> {
    return this.guard(() => writeFileAtomic(this.file(status.id, "status.json"), json(status)));
  }

  /** Writes the result once; returns false if one was already there (it is kept). */
  writeResult(result: WorkerResult): Promise<boolean> {
    return this.guard(() => writeFileOnce(this.file(result.id, "result.json"), json(result)));
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
    try {
      return await readFile(this.file(id, name), "utf8");
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return undefined;
      throw storeError(this.home, error);
    }
  }

  appendEvent(id: string, event: unknown): Promise<void> {
    return this.guard(() =>
      appendFile(this.file(id, "events.jsonl"), `${JSON.stringify(event)}\n`, { mode: FILE_MODE }),
    );
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
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.file(id, "transcript.log"), "r");
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return Buffer.alloc(0);
      throw storeError(this.home, error);
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

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(this.home, error);
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
  | "resume.txt";

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

export function storeError(home: string, error: unknown): BatonError {
  const code = errnoOf(error);
  const why =
    code === "EACCES" || code === "EPERM" || code === "EROFS"
      ? "is not writable"
      : code === "ENOSPC"
        ? "is on a full disk"
        : `failed (${code ?? String(error)})`;
  return new BatonError(
    "store",
    `the run store ${home} ${why}: free it or make it writable, or set BATON_HOME to another folder`,
    { cause: error },
  );
}
