import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { BatonError } from "../errors.js";
import { type GitFiles, inRepository, remoteGit } from "../queue/git-remote.js";
import type { WorkerRequest } from "../queue/wire.js";
import { DIR_MODE } from "../store/atomic.js";

/**
 * A host's checkouts for the git-remote files mode: one repository of its own that fetches the commits
 * jobs start from, and one detached worktree per commit, shared by the jobs running on it and removed
 * when the last ends. A writer works in a worktree of its own made from there by its local supervisor
 * (`isolate`), and its change is pushed to the remote as a branch.
 */
export class Checkouts {
  private readonly repo: string;
  /** Git on the repository, one command after another (fetch and worktree changes must not interleave). */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly users = new Map<string, number>();

  /** `root`: a folder of the host's own beside its store (the store is hidden from every worker). */
  constructor(private readonly root: string) {
    this.repo = join(root, "repo");
  }

  /** The folder holding `files.commit`, checked out (fetched first when this host lacks it). */
  take(files: GitFiles): Promise<string> {
    return this.serial(async () => {
      await this.ensureRepo();
      const has = await remoteGit(this.repo, ["cat-file", "-e", `${files.commit}^{commit}`]).then(
        () => true,
        () => false,
      );
      if (!has) await remoteGit(this.repo, ["fetch", "--quiet", "--no-tags", files.remote, files.ref]);
      const path = this.pathOf(files.commit);
      if (!(await exists(path))) {
        await remoteGit(this.repo, ["worktree", "add", "--quiet", "--detach", path, files.commit]);
      }
      this.users.set(files.commit, (this.users.get(files.commit) ?? 0) + 1);
      return path;
    });
  }

  /** A job on `commit` ended: its worktree goes when no other job uses it. */
  release(commit: string): Promise<void> {
    return this.serial(async () => {
      const left = (this.users.get(commit) ?? 1) - 1;
      if (left > 0) {
        this.users.set(commit, left);
        return;
      }
      this.users.delete(commit);
      const path = this.pathOf(commit);
      await remoteGit(this.repo, ["worktree", "remove", "--force", path]).catch(() =>
        rm(path, { recursive: true, force: true }),
      );
    });
  }

  /** Pushes a writer's commit to the remote as `branch` (again after a rerun: it replaces the last). */
  push(files: GitFiles, commit: string, branch: string): Promise<void> {
    return this.serial(() =>
      remoteGit(this.repo, ["push", "--quiet", "--force", files.remote, `${commit}:refs/heads/${branch}`]),
    ).then(() => {});
  }

  private pathOf(commit: string): string {
    return join(this.root, commit);
  }

  private async ensureRepo(): Promise<void> {
    if (await exists(join(this.repo, ".git"))) return;
    await mkdir(this.repo, { recursive: true, mode: DIR_MODE });
    await remoteGit(this.repo, ["init", "--quiet"]);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => {});
    return next;
  }
}

/**
 * The job's request as it runs in `checkout`: its folder and scope at the same places relative to the
 * repository, and a writer isolated (its change becomes a commit on a branch of its own). A job whose
 * paths leave the repository is refused: the coordinator never sends one.
 */
export function inCheckout(request: WorkerRequest, files: GitFiles, checkout: string): WorkerRequest {
  const move = (path: string) => {
    const rel = inRepository(files.root, path);
    if (rel === undefined) throw new BatonError("usage", `${path} is outside the repository ${files.root}`);
    return join(checkout, rel);
  };
  const writer = request.write !== undefined && request.write.length > 0;
  return {
    ...request,
    cwd: move(request.cwd ?? files.root),
    ...(request.write ? { write: request.write.map(move) } : {}),
    ...(writer ? { isolate: true } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new BatonError("store", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
