import { execFile } from "node:child_process";
import { isAbsolute, relative, sep } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { conflictsWithHead, repositoryOf } from "../supervisor/isolation.js";
import { SAFE_CONFIG } from "../worker/safe-git.js";
import type { WorkerResult } from "../worker/types.js";

const run = promisify(execFile);

// The git-remote files mode of a workspace on a queue (docs/scale-out.md): the coordinator pushes the
// commit a worker starts from to the remote, a host checks it out into a scratch folder of its own, and
// a writer's change comes back as a commit on a branch of the remote, which the coordinator fetches.
// What names a remote crosses Redis and is untrusted there: only plain transports are allowed, and
// never a URL that holds a password (each host reaches the remote with its own credentials).

/** The transports git may use for the remote: none that runs a program of the URL's choosing. */
const TRANSPORTS = ["file", "https", "ssh", "git"] as const;

/** `-c` settings that let git reach the remote by those transports only, on top of Baton's safe ones. */
export const REMOTE_CONFIG = [
  ...SAFE_CONFIG,
  ...TRANSPORTS.flatMap((t) => ["-c", `protocol.${t}.allow=always`]),
];

const SCHEME_URL = /^(https|ssh|git|file):\/\/(?<auth>[^/@]*@)?(?<host>[^/]*)(\/.*)?$/;
const SCP_LIKE = /^(?<user>[A-Za-z0-9._-]+@)?(?<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?!\/\/)(?<path>[^\0]+)$/;

/** Why `remote` cannot be a workspace's git remote, or undefined when it can. */
export function remoteProblem(remote: string): string | undefined {
  if (remote.length === 0 || remote.length > 2_000) return "give a URL of at most 2,000 characters";
  if (/[\0-\x1f\x7f]/.test(remote)) return "it holds a control character";
  if (remote.startsWith("-")) return "it starts with -";
  if (remote.startsWith("/")) return undefined; // a path on every host (a shared mount)
  const scheme = SCHEME_URL.exec(remote);
  if (scheme) {
    if (scheme.groups?.auth?.includes(":"))
      return "it holds a password, which would travel through Redis: let each host's git hold its credentials";
    if (scheme.groups?.host?.startsWith("-")) return "its host starts with -";
    return undefined;
  }
  if (remote.includes("::")) return "a transport helper (`name::`) may run any program: give a plain URL";
  if (SCP_LIKE.test(remote)) return undefined;
  return `use ${TRANSPORTS.map((t) => `${t}://`).join(", ")}, user@host:path or an absolute path`;
}

/** A remote URL as the wire and the store accept it. */
export const gitRemote = z.string().superRefine((value, ctx) => {
  const problem = remoteProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `not a git remote Baton uses: ${problem}` });
});

/** Where a job's files come from in the git-remote mode: the commit, and the folder it stands for. */
export const gitFiles = z.strictObject({
  remote: gitRemote,
  /** The ref the coordinator pushed the commit to (refs/baton/<workspace>/<commit>). */
  ref: z.string().regex(/^refs\/baton\/[0-9a-f]{24}\/[0-9a-f]{40,64}$/),
  commit: z.string().regex(/^[0-9a-f]{40,64}$/),
  /** The repository's top folder on the coordinator: the job's cwd and scope are taken relative to it. */
  root: z.string().min(1).max(4_096),
});
export type GitFiles = z.infer<typeof gitFiles>;

/** A branch name on the remote for a writer's change: per workspace and dispatch, so none collide. */
export function changeBranch(workspace: string, job: string): string {
  return `baton/${job}-${workspace.slice(0, 8)}`;
}

/** Git on the coordinator's or a host's own repository, reaching the remote by the plain transports only. */
export async function remoteGit(cwd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", cwd, ...REMOTE_CONFIG, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      env: { ...withoutGitVariables(), GIT_TERMINAL_PROMPT: "0" },
    });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const last = stderr.split("\n").filter(Boolean).at(-1) ?? (error as Error).message;
    throw new BatonError("usage", `git ${args[0]} failed: ${last}`, { cause: error });
  }
}

/**
 * The process's environment less GIT_* variables (a GIT_DIR would redirect every command). The user's
 * global git config stays: it is where a host keeps its credential helper for the remote.
 */
function withoutGitVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("GIT_")));
}

/** The folder `path` stands for inside the repository at `root`, or undefined when it is outside. */
export function inRepository(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

/**
 * The coordinator's side of a dispatch: the commit checked out in the repository holding `cwd` (HEAD,
 * or `base` an --isolate writer's spawn recorded; what is not committed stays here), pushed to the
 * remote under a ref of the workspace's own, once.
 */
export async function pushBase(
  remote: string,
  workspace: string,
  cwd: string,
  paths: readonly string[],
  pushed: Set<string>,
  base?: string,
): Promise<GitFiles> {
  const root = (
    await remoteGit(cwd, ["rev-parse", "--show-toplevel"]).catch(() => {
      throw new BatonError("usage", `the git-remote mode needs a git repository: ${cwd} is not inside one`);
    })
  ).trim();
  for (const path of [cwd, ...paths]) {
    if (inRepository(root, path) === undefined)
      throw new BatonError(
        "usage",
        `in the git-remote mode a worker's folder and scope are inside the repository ${root}: ${path} is not`,
      );
  }
  const commit = base ?? (await remoteGit(root, ["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  const ref = `refs/baton/${workspace}/${commit}`;
  if (!pushed.has(`${remote}\0${ref}`)) {
    await remoteGit(root, ["push", "--quiet", remote, `${commit}:${ref}`]);
    pushed.add(`${remote}\0${ref}`);
  }
  return { remote, ref, commit, root };
}

/**
 * The coordinator fetches a writer's branch from the remote into the repository holding `cwd` (same
 * name), and says which files conflict with its HEAD now, as `--isolate` does.
 */
export async function landChange(
  remote: string,
  cwd: string,
  isolation: NonNullable<WorkerResult["isolation"]>,
): Promise<NonNullable<WorkerResult["isolation"]>> {
  if (!isolation.commit || !/^baton\/[A-Za-z0-9._-]+$/.test(isolation.branch)) return isolation;
  const root = await repositoryOf(cwd);
  const { branch } = isolation;
  await remoteGit(root, [
    "fetch",
    "--quiet",
    "--no-tags",
    remote,
    `+refs/heads/${branch}:refs/heads/${branch}`,
  ]);
  const fetched = (await remoteGit(root, ["rev-parse", "--verify", `refs/heads/${branch}^{commit}`])).trim();
  if (fetched !== isolation.commit)
    throw new BatonError(
      "usage",
      `the remote's ${branch} is ${fetched}, not the worker's commit ${isolation.commit}`,
    );
  return { ...isolation, conflicts: await conflictsWithHead(root, branch) };
}
