import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inStoreSync, lstatInStore, writeNewStoreFileSync } from "../store/no-follow.js";
import { appendSupervisorLog } from "../store/supervisor-log.js";

// The copy of the native launcher (native/launch.c) that the supervisor runs, outside the sandbox
// (`--shield`, which then becomes bubblewrap, where the spawner does not do that itself) and inside it
// (`--agent`, mounted read-only).
//
// Never the package's own file: the store is hidden from every sandboxed worker, while a writer whose
// scope holds Baton's install (a project with Baton in its node_modules) could change the package's
// and so the program that starts the next worker's sandbox, from outside it. The package's file is
// read once a process; within one supervisor's life, nothing a worker changes there is run.
//
// Nor anything else found in the copy's place: the store is untrusted input too (an unconfined worker
// can write it). The copy is pinned by what it was when Baton wrote it (device, inode, size, change
// time, one link, mode 0700) and checked by one lstat before each use; anything else there is
// replaced, never run or followed.

/** The helper the build made, if it did (`dist/native/baton-launch`). */
const BUILT = fileURLToPath(new URL("../native/baton-launch", import.meta.url));
const NAME = "baton-launch";

/** The package's helper, read once a process; null where the build made none. */
let built: Buffer | null | undefined;

interface Pinned {
  readonly path: string;
  readonly stats: Stats;
}

/** Per store: its pinned copy, or why there is none (then agents start through bash and env). */
const copies = new Map<string, Pinned | { readonly why: string }>();

/**
 * The store's copy of the launcher, made on first use (and again whenever what is there is not the
 * copy Baton made), checked to run. Undefined where there is none: no helper was built, or the store's
 * file system cannot run it (`noexec`); the reason goes to `supervisor.log` once.
 */
export function launcherIn(home: string): string | undefined {
  const known = copies.get(home);
  if (known && "why" in known) return undefined;
  if (known && same(home, known)) return known.path;
  const made = install(home);
  copies.set(home, made);
  if ("why" in made) {
    appendSupervisorLog(home, `agents start through bash and env, not ${NAME}: ${made.why}`);
    return undefined;
  }
  return made.path;
}

function same(home: string, pinned: Pinned): boolean {
  const now = lstatQuietly(home, pinned.path);
  const was = pinned.stats;
  return (
    now?.isFile() === true &&
    now.nlink === 1 &&
    (now.mode & 0o7777) === 0o700 &&
    now.dev === was.dev &&
    now.ino === was.ino &&
    now.size === was.size &&
    now.ctimeMs === was.ctimeMs
  );
}

function install(home: string): Pinned | { why: string } {
  if (built === undefined) {
    try {
      built = readFileSync(BUILT);
    } catch {
      built = null;
    }
  }
  if (built === null) return { why: `the build made no ${BUILT} (no C compiler?)` };
  const path = join(home, NAME);
  try {
    // A new file each time, renamed over whatever is there (a link is replaced, never followed).
    const temp = join(home, `.${NAME}.${process.pid}.${randomBytes(6).toString("hex")}`);
    writeNewStoreFileSync(home, temp, built, 0o700);
    inStoreSync(home, path, (at) => {
      const tempAt = join(dirname(at), basename(temp));
      try {
        renameSync(tempAt, at);
      } catch {
        rmSync(at, { recursive: true, force: true }); // a folder in its place: a file cannot replace it
        renameSync(tempAt, at);
      }
    });
    const stats = lstatQuietly(home, path);
    if (!stats?.isFile()) return { why: `${path} could not be made` };
    const check = spawnSync(path, ["--agent", "--", "/bin/true"], { stdio: "ignore", timeout: 10_000 });
    if (check.status !== 0)
      return {
        why: `${path} does not run (${check.error?.message ?? `exit ${check.status ?? check.signal}`})`,
      };
    return { path, stats };
  } catch (error) {
    return { why: `${path} could not be made: ${(error as Error).message}` };
  }
}

function lstatQuietly(home: string, path: string): Stats | undefined {
  try {
    return lstatInStore(home, path);
  } catch {
    return undefined;
  }
}
