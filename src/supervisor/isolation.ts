import { execFile } from "node:child_process";
import { lstatSync, realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { BatonError, errnoOf } from "../errors.js";
import { readStoreFileSync, StoreDamageError } from "../store/no-follow.js";
import { gitEnv, SAFE_CONFIG } from "../worker/safe-git.js";
import type { WorkerSpec } from "../worker/types.js";

const run = promisify(execFile);

// Every git command Baton runs for a worker runs with a configuration no worker controls. Git reads
// config from the system, the user's home, the repository and the worktree, and some keys name a
// program that git then runs (hooks, core.fsmonitor, gpg.program, transports). So: no system or global
// file at all (the environment below), and on the command line, which wins over every file, each key
// that could run something is switched off. In the worktree, git is told where its repository is
// (--git-dir, recorded when Baton made the worktree) instead of reading the `.git` file a worker could
// repoint, and that file is checked all the same, so a tampered worktree is reported, not used.

/** Baton's commits in a worktree carry its own name, whatever config the repository holds. */
const AUTHOR = ["-c", "user.name=Baton", "-c", "user.email=baton@localhost"];

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", cwd, ...SAFE_CONFIG, ...AUTHOR, ...args], {
    maxBuffer: 64 * 1024 * 1024,
    env: gitEnv(),
  });
  return stdout;
}

/** Git in the worktree, after checking its `.git`, with its repository named rather than found. */
async function gitInWorktree(worktree: Worktree, args: readonly string[]): Promise<string> {
  checkDotGit(worktree);
  return git(worktree.path, [`--git-dir=${worktree.gitdir}`, `--work-tree=${worktree.path}`, ...args]);
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
  /** The worktree's git folder in the repository, as git made it: the only one Baton runs git with. */
  readonly gitdir: string;
}

/** The repository that holds `cwd`, or a usage error: isolation needs git. */
export async function repositoryOf(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new BatonError("usage", `--isolate needs a git repository: ${cwd} is not inside one`);
  }
}

/** A commit an isolated writer is to start from, what it is, and what to do when the repository lacks it. */
export interface StartingCommit {
  readonly commit: string;
  readonly of: string;
  readonly otherwise: string;
}

/**
 * The commit an isolated writer starts from: HEAD as it is when the spawn is accepted, so commits made
 * after `spawn` returns (or while the worker waits its turn) are not in its worktree. A follow-up of an
 * isolated writer starts `from` its parent's change instead, and a host's writer from the commit its
 * coordinator's spawn recorded, if the repository has it.
 */
export async function isolationBase(cwd: string, from?: StartingCommit): Promise<string> {
  const repo = await repositoryOf(cwd);
  if (from) {
    const found = await git(repo, ["rev-parse", "--verify", "--quiet", `${from.commit}^{commit}`]).catch(
      () => "",
    );
    if (found.trim() === from.commit) return from.commit;
    throw new BatonError(
      "usage",
      `${from.of} (commit ${from.commit.slice(0, 12)}) is not in ${repo}: ${from.otherwise}`,
    );
  }
  try {
    return (await git(repo, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).trim();
  } catch {
    throw new BatonError(
      "usage",
      `--isolate needs a commit to start from: ${repo} has none yet; commit first`,
    );
  }
}

/**
 * Checks out `base` into `<home>/worktrees/<id>` on a new branch `baton/<id>-<key>`. A resumed
 * worker (`again`) gets the worktree it had back, with what its thread wrote there before the crash:
 * as git knows it (its branch checked out there), else made again on its branch, else anew.
 */
export async function createWorktree(
  home: string,
  id: string,
  key: string,
  cwd: string,
  base = "HEAD",
  again = false,
): Promise<Worktree> {
  const repo = await repositoryOf(cwd);
  const path = join(home, "worktrees", id);
  const branch = `baton/${id}-${key}`;
  refusePlanted(home, join(home, "worktrees"), true);
  const reopen = again && (await worktreeOf(repo, path, branch));
  if (!reopen) {
    refusePlanted(home, path, false);
    const made =
      again &&
      (await git(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).catch(() => ""));
    if (made) await git(repo, ["worktree", "prune"]);
    await git(repo, ["worktree", "add", "--quiet", ...(made ? [path, branch] : ["-b", branch, path, base])]);
  }
  // Read before the worker starts: what git wrote is the one `.git` this worktree may ever have.
  const gitdir = gitdirOf(readStoreFileSync(home, join(path, ".git")));
  if (!gitdir) {
    throw new BatonError("store", `git made the worktree ${path} without a .git file: cannot isolate`);
  }
  return { repo, path, branch, cwd: join(path, relative(repo, cwd)), gitdir };
}

/**
 * Whether the repository has `branch` checked out in a worktree at `path`, a real folder: the one
 * Baton made there (its `.git` is read-only to the worker, and checked before git runs in it).
 */
async function worktreeOf(repo: string, path: string, branch: string): Promise<boolean> {
  try {
    if (!lstatSync(path).isDirectory()) return false;
  } catch {
    return false;
  }
  const real = realpathSync(path);
  const listed = await git(repo, ["worktree", "list", "--porcelain"]);
  return listed.split("\n\n").some((block) => {
    const lines = block.split("\n");
    const at = lines.includes(`worktree ${path}`) || lines.includes(`worktree ${real}`);
    return at && lines.includes(`branch refs/heads/${branch}`);
  });
}

/** The spec as the agent sees it inside its worktree: same relative cwd and write paths. */
export function inWorktree(spec: WorkerSpec, worktree: Worktree): WorkerSpec {
  const move = (path: string) => join(worktree.path, relative(worktree.repo, path));
  return {
    ...spec,
    cwd: worktree.cwd,
    scope: spec.scope.kind === "write" ? { kind: "write", paths: spec.scope.paths.map(move) } : spec.scope,
  };
}

/** A folder (or entry) of the store that must be Baton's own: `worktrees/` a plain folder, a worktree new. */
function refusePlanted(home: string, path: string, mayExist: boolean): void {
  let found: ReturnType<typeof lstatSync>;
  try {
    found = lstatSync(path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw error;
  }
  if (mayExist && found.isDirectory()) return;
  throw new BatonError(
    "store",
    `store damage: ${relative(dirname(home), path)} ${found.isSymbolicLink() ? "is a symbolic link" : "is already there"}; Baton will not make a worktree through it: remove it`,
  );
}

/** The path a `.git` file names, if it is one line `gitdir: PATH`. */
function gitdirOf(text: string | undefined): string | undefined {
  const match = /^gitdir: (.+)\n$/.exec(text ?? "");
  return match?.[1];
}

/** Refuses a worktree whose `.git` is no longer the file git made when Baton created it. */
function checkDotGit(worktree: Worktree): void {
  const file = join(worktree.path, ".git");
  let why: string | undefined;
  try {
    const text = readStoreFileSync(worktree.path, file);
    if (text === undefined) why = "was removed";
    else if (text !== `gitdir: ${worktree.gitdir}\n`)
      why = "no longer names the repository Baton made it for";
  } catch (error) {
    why = error instanceof StoreDamageError ? error.what : "cannot be read";
  }
  if (why) {
    // <home>/worktrees/<id>/.git, shown from the store's own folder name on.
    const shown = relative(dirname(dirname(dirname(worktree.path))), file);
    throw new BatonError(
      "store",
      `store damage: ${shown} ${why}; Baton will not run git in that worktree: the worker's files are left in ${worktree.path}`,
    );
  }
}

/**
 * Commits whatever the worker changed onto its branch, checks it against HEAD for conflicts, and
 * removes the worktree. The branch keeps the change; nothing is merged or lost silently.
 */
export async function collectWorktree(worktree: Worktree, message: string): Promise<IsolationOutcome> {
  await gitInWorktree(worktree, ["add", "--all"]);
  const changedFiles = (
    await gitInWorktree(worktree, ["diff", "--cached", "--name-only", "--no-ext-diff", "--no-textconv"])
  )
    .split("\n")
    .filter(Boolean);
  let commit: string | undefined;
  if (changedFiles.length > 0) {
    await gitInWorktree(worktree, ["commit", "--quiet", "--no-verify", "-m", message]);
    commit = (await gitInWorktree(worktree, ["rev-parse", "HEAD"])).trim();
  }
  const conflicts = commit ? await conflictsWithHead(worktree.repo, worktree.branch) : [];
  checkDotGit(worktree); // `worktree remove` reads it
  await git(worktree.repo, ["worktree", "remove", "--force", worktree.path]).catch(() =>
    rm(worktree.path, { recursive: true, force: true }),
  );
  return { branch: worktree.branch, commit, changedFiles, conflicts };
}

/** Files that would conflict if `branch` were merged into HEAD now (git merge-tree, nothing written). */
export async function conflictsWithHead(repo: string, branch: string): Promise<string[]> {
  try {
    await git(repo, ["merge-tree", "--write-tree", "--name-only", "--no-messages", "HEAD", branch]);
    return [];
  } catch (error) {
    const out = String((error as { stdout?: unknown }).stdout ?? "");
    // Exit 1 means conflicts: the tree id, then one conflicted path per line.
    return out.split("\n").slice(1).filter(Boolean);
  }
}
