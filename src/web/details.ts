import { join } from "node:path";
import { z } from "zod";
import type { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";
import { readStoreFile } from "../store/no-follow.js";
import { WORKER_ID } from "../store/store.js";
import { readable } from "../transcript/for-backend.js";
import { reportedPaths, type WorkerChanges, workerChanges } from "../worker/changes.js";
import { isFinal } from "../worker/state.js";

// One worker seen closely: its readable transcript, and what a writer changed. (Its final answer is
// `baton.result`, served as it is.)

/** The end of a long transcript is what the page shows: at most this many characters of it. */
const MAX_TRANSCRIPT_CHARS = 512 * 1024;

/** `id` if it is a worker id, else a usage error (before anything is asked of the supervisor). */
export function workerId(id: string): string {
  if (!WORKER_ID.test(id))
    throw new BatonError("usage", `"${id}" is not a worker id: ids look like w1, w2, ...`);
  return id;
}

async function infoOf(baton: Baton, id: string) {
  const worker = (await baton.list(undefined, { workers: [id] })).workers.find((w) => w.id === id);
  if (!worker) throw new BatonError("not_found", `no worker "${id}" in this workspace`);
  return worker;
}

export interface TranscriptView {
  /** The transcript as people read it (what `baton logs` prints), its end if it is long. */
  readonly text: string;
  /** Characters left out at its start. */
  readonly cut: number;
  readonly state: string;
}

/** The worker's readable transcript (see transcript/readable.ts). */
export async function transcriptOf(baton: Baton, id: string): Promise<TranscriptView> {
  const worker = await infoOf(baton, id);
  const text = await readable(await baton.logs(id), worker.backend ?? "codex", {
    ended: isFinal(worker.state),
  });
  const cut = Math.max(0, text.length - MAX_TRANSCRIPT_CHARS);
  return { text: cut ? text.slice(cut) : text, cut, state: worker.state };
}

/** The part of `spec.json` the changes need. */
const specShape = z.object({
  cwd: z.string(),
  backend: z.string(),
  isolate: z.boolean(),
  scope: z.object({ kind: z.enum(["read-only", "write"]) }),
});

/** What the worker changed: nothing for a reader; an isolated writer's commit; a writer's files now. */
export async function changesOf(baton: Baton, id: string): Promise<WorkerChanges> {
  const worker = await infoOf(baton, id);
  const read = await readStoreFile(baton.home, join(baton.home, "workers", id, "spec.json"));
  const spec = specShape.safeParse(parseJson(read?.text));
  if (!spec.success) throw new BatonError("store", `the record of worker ${id} (spec.json) cannot be read`);
  const none = (why: string): WorkerChanges => ({
    from: { kind: "none", why },
    files: [],
    diff: "",
    cut: false,
  });
  if (spec.data.scope.kind === "read-only") return none("a reader changes nothing");
  if (!isFinal(worker.state) && spec.data.isolate)
    return none("an isolated writer's change shows once it ends, as a commit on its branch");
  if (worker.state === "queued") return none("the worker has not started");
  const result = isFinal(worker.state) ? await baton.result(id) : undefined;
  const transcript = result?.isolation ? "" : await baton.logs(id);
  return workerChanges({
    cwd: spec.data.cwd,
    ...(result?.isolation ? { isolation: result.isolation } : {}),
    reported: reportedPaths(transcript, spec.data.backend),
  });
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
