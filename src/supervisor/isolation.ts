import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { BatonError } from "../errors.js";

const run = promisify(execFile);

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", cwd, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** What an isolated writer gave back: its commit on its own branch, and whether it merges cleanly. */
export interface IsolationOutcome {
  readonly branch: string;
  /** The commit holding the worker's change; absent when it changed nothing. */
  readonly commit: string | undefined;
  readonly changedFiles: readonly string[];
  /** Files that conflict with the main line (HEAD of the repository) as it is now. */
  readonly conflicts: readonly string[];
}

/** A worker's own git worktree: where it works instead of the shared checkout. */
export interface Worktree {
  readonly repo: string;
  readonly path: string;
  readonly branch: string;
  /** The worker's cwd inside the worktree. */
  readonly cwd: string;
}

/** The repository that holds `cwd`, or a usage error: isolation needs git. */
export async function repositoryOf(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new BatonError("usage", `--isolate needs a git repository: ${cwd} is not inside one`);
  }
}

/** Checks out HEAD into `<home>/worktrees/<id>` on a new branch `baton/<id>-<key>`. */
export async function createWorktree(home: string, id: string, key: string, cwd: string): Promise<Worktree> {
  const repo = await repositoryOf(cwd);
  const path = join(home, "worktrees", id);
  const branch = `baton/${id}-${key}`;
  await git(repo, ["worktree", "add", "--quiet", "-b", branch, path, "HEAD"]);
  return { repo, path, branch, cwd: join(path, relative(repo, cwd)) };
}

/**
 * Commits whatever the worker changed onto its branch, checks it against HEAD for conflicts, and
 * removes the worktree. The branch keeps the change; nothing is merged or lost silently.
 */
export async function collectWorktree(worktree: Worktree, message: string): Promise<IsolationOutcome> {
  await git(worktree.path, ["add", "--all"]);
  const changedFiles = (await git(worktree.path, ["diff", "--cached", "--name-only"]))
    .split("\n")
    .filter(Boolean);
  let commit: string | undefined;
  if (changedFiles.length > 0) {
    await git(worktree.path, [
      "-c",
      "user.name=Baton",
      "-c",
      "user.email=baton@localhost",
      "commit",
      "--quiet",
      "--no-verify",
      "-m",
      message,
    ]);
    commit = (await git(worktree.path, ["rev-parse", "HEAD"])).trim();
  }
  const conflicts = commit ? await conflictsWithHead(worktree.repo, worktree.branch) : [];
  await git(worktree.repo, ["worktree", "remove", "--force", worktree.path]).catch(() =>
    rm(worktree.path, { recursive: true, force: true }),
  );
  return { branch: worktree.branch, commit, changedFiles, conflicts };
}

/** Files that would conflict if `branch` were merged into HEAD now (git merge-tree, nothing written). */
async function conflictsWithHead(repo: string, branch: string): Promise<string[]> {
  try {
    await git(repo, ["merge-tree", "--write-tree", "--name-only", "--no-messages", "HEAD", branch]);
    return [];
  } catch (error) {
    const out = String((error as { stdout?: unknown }).stdout ?? "");
    // Exit 1 means conflicts: the tree id, then one conflicted path per line.
    return out.split("\n").slice(1).filter(Boolean);
  }
}
