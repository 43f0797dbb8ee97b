import { constants, lstatSync, statSync } from "node:fs";
import { access, lstat, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { writeFileOnce } from "./atomic.js";
import { inStore } from "./no-follow.js";
import { isTrustedStore, trustStore } from "./trusted.js";

export const STORE_DIR = ".baton";

/**
 * Where the run store of the workspace containing `cwd` lives, found as git finds a repository:
 * `BATON_HOME` if set; else, going up from `cwd`, the first folder that holds a `.baton` or a `.git`
 * (a folder holding HEAD, or the file of a worktree or submodule; an empty folder of that name, as an
 * agent's sandbox leaves, is passed over as git passes it over), whose `.baton` it is (made there
 * when needed);
 * else `cwd/.baton`. So a command run anywhere in a repository uses the repository's store, and a
 * `.baton` above the repository's root is never picked up. A `.baton` found on the way up is taken only
 * if Baton made it, or was pointed at it, for this user (see trusted.ts); else a one-line refusal.
 */
export function resolveHome(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (env.BATON_HOME) return resolve(cwd, env.BATON_HOME);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, STORE_DIR);
    if (present(candidate)) return trusted(candidate, env);
    if (isRepository(join(dir, ".git"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(cwd), STORE_DIR);
    dir = parent;
  }
}

/**
 * `home`, a `.baton` found on the way up, if Baton made it or was pointed at it for this user (see
 * trusted.ts); else a one-line refusal: a worker that may write that folder could have left it there.
 */
function trusted(home: string, env: NodeJS.ProcessEnv): string {
  if (isTrustedStore(home, env)) return home;
  if (!isPlainFolder(home)) {
    throw new BatonError("store", `the run store ${home} is not a plain folder: remove it or set BATON_HOME`);
  }
  throw new BatonError(
    "usage",
    `${home} is a run store Baton did not make for you (a worker that may write there could have): if it is yours, name it once with --home ${home} (or BATON_HOME); else remove it`,
  );
}

function isPlainFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Whether `git` names a repository: a folder holding HEAD, or a file that is not empty (a worktree's
 * or submodule's `gitdir:` line); followed, as git follows it. What cannot be checked counts as one.
 */
function isRepository(git: string): boolean {
  try {
    const info = statSync(git);
    return info.isDirectory() ? present(join(git, "HEAD")) : info.size > 0;
  } catch (error) {
    return errnoOf(error) !== "ENOENT" && errnoOf(error) !== "ENOTDIR";
  }
}

/** Whether something is at `path` (not followed); a path that cannot be checked counts as there. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    return errnoOf(error) !== "ENOENT" && errnoOf(error) !== "ENOTDIR";
  }
}

/** The file that marks a folder as a run store Baton made (or was given empty), and may lock down. */
export const STORE_MARKER = ".baton-store";

/** Keeps git from showing or staging anything of the store. */
const IGNORE_FILE = ".gitignore";

/**
 * Makes sure the existing folder `home` is Baton's to use: one it marked, an empty one (marked now), or
 * a store made before markers existed (it has a `workers` folder). Refuses any other folder in one line,
 * so that Baton never chmods, fills or takes over a folder someone pointed BATON_HOME at by mistake.
 * System errors (a read-only or full disk) are thrown as they are, for the caller to word.
 */
export async function claimHome(home: string): Promise<void> {
  const names = await readdir(home);
  if (names.includes(STORE_MARKER)) {
    if (!names.includes(IGNORE_FILE)) await ignoreStore(home);
    trustStore(home);
    return;
  }
  const ours = names.every((name) => OWN_NAMES.has(name)); // e.g. made by `baton plan set` alone
  if (names.length > 0 && !ours && !(await isFolder(join(home, "workers")))) {
    throw new BatonError(
      "store",
      `${home} is not a run store (it holds other files, and no ${STORE_MARKER}): point BATON_HOME at a new or empty folder`,
    );
  }
  await access(home, constants.W_OK); // an unwritable store is reported as such, not by the marker's name
  try {
    await writeFile(join(home, STORE_MARKER), "This folder is a Baton run store.\n", {
      mode: 0o600,
      flag: "wx",
    });
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw error;
  }
  if (!names.includes(IGNORE_FILE)) await ignoreStore(home);
  trustStore(home);
}

/**
 * Writes `.gitignore` holding `*` into the store, so that git never shows or stages a prompt, a
 * transcript or a result. Written once, by a link, inside the store reached without following links:
 * something already in its place (a file a person edited, a link a worker planted) is left alone and
 * never written through.
 */
export async function ignoreStore(home: string): Promise<void> {
  await inStore(home, join(home, IGNORE_FILE), (at) => writeFileOnce(at, "*\n"));
}

/** What Baton itself puts in a run store: a folder holding only these is one, marked or not. */
const OWN_NAMES = new Set([
  "workers",
  "plan.json",
  "plan-history.jsonl",
  "runs",
  "summaries",
  "worktrees",
  "templates",
  "supervisor.sock",
  "supervisor.json",
  "supervisor.log",
  "baton-launch",
  ".gitignore",
]);

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
