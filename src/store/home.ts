import { constants, lstatSync } from "node:fs";
import { access, lstat, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BatonError, errnoOf } from "../errors.js";

export const STORE_DIR = ".baton";

/**
 * Where the run store of the workspace containing `cwd` lives: `BATON_HOME` if set, else the nearest
 * `.baton` folder in `cwd` or above it (as git finds `.git`), else `cwd/.baton`.
 */
export function resolveHome(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (env.BATON_HOME) return resolve(cwd, env.BATON_HOME);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, STORE_DIR);
    try {
      lstatSync(candidate);
      return candidate;
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(cwd), STORE_DIR);
    dir = parent;
  }
}

/** The file that marks a folder as a run store Baton made (or was given empty), and may lock down. */
export const STORE_MARKER = ".baton-store";

/**
 * Makes sure the existing folder `home` is Baton's to use: one it marked, an empty one (marked now), or
 * a store made before markers existed (it has a `workers` folder). Refuses any other folder in one line,
 * so that Baton never chmods, fills or takes over a folder someone pointed BATON_HOME at by mistake.
 * System errors (a read-only or full disk) are thrown as they are, for the caller to word.
 */
export async function claimHome(home: string): Promise<void> {
  const names = await readdir(home);
  if (names.includes(STORE_MARKER)) return;
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
  ".gitignore",
]);

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
