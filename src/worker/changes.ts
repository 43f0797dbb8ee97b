import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { createTwoFilesPatch } from "diff";
import { backendNamed } from "../backend/registry.js";
import { errnoOf } from "../errors.js";
import { transcriptEntries } from "../transcript/readable.js";
import { safeGit } from "./safe-git.js";
import type { WorkerResult } from "./types.js";

// What a writer changed, for a person to look at: its files and a unified diff. An isolated writer's
// change is a commit on its own branch, read from git (two trees compared: no working tree, no filter).
// A writer in the shared checkout has no commit: its files are the ones its agent reported changing,
// shown as they are now against HEAD, and that diff is made here, in-process, from the HEAD blob and
// the file read without following links, so Baton never runs git on a working tree whose config or
// attributes a worker could have written (a clean filter there is a program git would run).

/** The diff is cut at this many characters; a file above MAX_FILE_BYTES is listed, not diffed. */
export const MAX_DIFF_CHARS = 1024 * 1024;
const MAX_FILE_BYTES = 1024 * 1024;
/** Reported paths looked at, at most. */
const MAX_FILES = 200;
const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

export interface ChangedFile {
  /** Relative to the repository (or the worker's cwd when there is none), `/`-separated. */
  readonly path: string;
  readonly change: "added" | "modified" | "deleted" | "unchanged" | "not shown";
  /** Why its diff is not shown (binary, too large, a link, outside the worker's folder). */
  readonly note?: string;
}

export interface WorkerChanges {
  /** Where the change was read: the writer's commit, or its files as they are now. */
  readonly from:
    | { readonly kind: "commit"; readonly branch: string; readonly commit: string }
    | { readonly kind: "files"; readonly base: "HEAD" | "none" }
    | { readonly kind: "none"; readonly why: string };
  readonly files: readonly ChangedFile[];
  readonly diff: string;
  /** The diff was longer than {@link MAX_DIFF_CHARS} and was cut. */
  readonly cut: boolean;
}

export interface ChangesInput {
  /** The worker's working directory (its spec's cwd). */
  readonly cwd: string;
  /** An isolated writer's outcome (its result's `isolation`). */
  readonly isolation?: WorkerResult["isolation"];
  /** Paths the agent reported changing, absolute or relative to `cwd` (see {@link reportedPaths}). */
  readonly reported: readonly string[];
}

/** The paths a worker's agent reported changing, in its transcript, in order, each once. */
export function reportedPaths(transcript: string, backend: string): string[] {
  const paths = new Set<string>();
  for (const entry of transcriptEntries(transcript, backendNamed(backend).parser())) {
    if (entry.type === "event" && entry.event.type === "file_change")
      for (const path of entry.event.paths) if (path) paths.add(path);
  }
  return [...paths];
}

/** What the writer changed. Never throws for a missing repository, commit or file: it says so instead. */
export async function workerChanges(input: ChangesInput): Promise<WorkerChanges> {
  if (input.isolation) {
    const { branch, commit } = input.isolation;
    if (!commit) return none(`the isolated writer changed nothing (branch ${branch})`);
    if (!COMMIT.test(commit)) return none(`the recorded commit "${commit}" is not a commit id`);
    return commitChanges(input.cwd, branch, commit);
  }
  if (input.reported.length === 0) return none("the agent reported no file changes");
  return fileChanges(input.cwd, input.reported);
}

const none = (why: string): WorkerChanges => ({
  from: { kind: "none", why },
  files: [],
  diff: "",
  cut: false,
});

async function repositoryOf(cwd: string): Promise<string | undefined> {
  try {
    return (await safeGit(cwd, ["rev-parse", "--show-toplevel"])).toString("utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

const DIFF_FLAGS = ["--no-ext-diff", "--no-textconv", "--no-color", "--no-renames"];

async function commitChanges(cwd: string, branch: string, commit: string): Promise<WorkerChanges> {
  const repo = await repositoryOf(cwd);
  if (!repo) return none(`${cwd} is no longer in a git repository: see branch ${branch}`);
  const range = [`${commit}^`, commit];
  try {
    const names = (await safeGit(repo, ["diff", ...DIFF_FLAGS, "--name-status", "-z", ...range]))
      .toString("utf8")
      .split("\0");
    const files: ChangedFile[] = [];
    for (let i = 0; i + 1 < names.length; i += 2) {
      const status = names[i] ?? "";
      const path = names[i + 1] ?? "";
      files.push({ path, change: status === "A" ? "added" : status === "D" ? "deleted" : "modified" });
    }
    const { text, cut } = bounded(
      (await safeGit(repo, ["diff", ...DIFF_FLAGS, ...range], { maxBuffer: 64 * 1024 * 1024 })).toString(
        "utf8",
      ),
    );
    return { from: { kind: "commit", branch, commit }, files, diff: text, cut };
  } catch {
    return none(`git could not show commit ${commit.slice(0, 10)} of branch ${branch}: was it removed?`);
  }
}

async function fileChanges(cwd: string, reported: readonly string[]): Promise<WorkerChanges> {
  const repo = await repositoryOf(cwd);
  const root = repo ?? cwd;
  const files: ChangedFile[] = [];
  let diff = "";
  for (const given of reported.slice(0, MAX_FILES)) {
    const path = resolve(cwd, given);
    const rel = relative(root, path);
    if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) {
      files.push({ path: given, change: "not shown", note: "outside the worker's folder" });
      continue;
    }
    const name = rel.split(sep).join("/");
    const now = await readPlain(path);
    const before = repo ? await headBlob(repo, name) : undefined;
    if (now.kind === "refused") {
      files.push({ path: name, change: "not shown", note: now.why });
      continue;
    }
    const after = now.kind === "file" ? now.bytes : undefined;
    const change = changeOf(before, after, repo !== undefined);
    const binary = [before, after].some((b) => b?.includes(0));
    if (binary) files.push({ path: name, change, note: "binary" });
    else files.push({ path: name, change });
    if (!repo || binary || change === "unchanged") continue;
    diff += createTwoFilesPatch(
      before ? `a/${name}` : "/dev/null",
      after ? `b/${name}` : "/dev/null",
      before?.toString("utf8") ?? "",
      after?.toString("utf8") ?? "",
    ).replace(/^=+\n/, "");
    if (diff.length > MAX_DIFF_CHARS) break;
  }
  const { text, cut } = bounded(diff);
  return { from: { kind: "files", base: repo ? "HEAD" : "none" }, files, diff: text, cut };
}

function changeOf(
  before: Buffer | undefined,
  after: Buffer | undefined,
  inGit: boolean,
): ChangedFile["change"] {
  if (!after) return "deleted";
  if (!inGit) return "modified";
  if (!before) return "added";
  return before.equals(after) ? "unchanged" : "modified";
}

function bounded(text: string): { text: string; cut: boolean } {
  return text.length > MAX_DIFF_CHARS
    ? { text: text.slice(0, MAX_DIFF_CHARS), cut: true }
    : { text, cut: false };
}

/** The file's content at HEAD, or undefined if HEAD has no such file (or there is no HEAD). */
async function headBlob(repo: string, name: string): Promise<Buffer | undefined> {
  try {
    return await safeGit(repo, ["cat-file", "blob", `HEAD:${name}`], { maxBuffer: MAX_FILE_BYTES + 1 });
  } catch {
    return undefined;
  }
}

type Read = { kind: "file"; bytes: Buffer } | { kind: "missing" } | { kind: "refused"; why: string };

/** A plain file read whole, never through a symbolic link or from a FIFO; missing if it is gone. */
async function readPlain(path: string): Promise<Read> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    if (code === "ELOOP") return { kind: "refused", why: "a symbolic link" };
    return { kind: "refused", why: `cannot be read (${code ?? "error"})` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { kind: "refused", why: "not a plain file" };
    if (stats.size > MAX_FILE_BYTES) return { kind: "refused", why: `too large (${stats.size} bytes)` };
    return { kind: "file", bytes: await handle.readFile() };
  } finally {
    await handle.close();
  }
}
