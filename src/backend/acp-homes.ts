import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { errnoOf } from "../errors.js";
import { DIR_MODE, writeFileAtomicSync } from "../store/atomic.js";
import { inStoreSync } from "../store/no-follow.js";
import { THREAD_ID } from "../worker/types.js";
import { readAgentFile } from "./untrusted-file.js";

// An ACP preset whose agent keeps its sessions in its home gives each thread a home of its own in the
// run store (`<agent state>/homes/<uuid>/`): parallel workers share nothing, and a follow-up or a
// resume finds its session again. The agent chooses the session id, so Baton notes which home holds
// it (`sessions/<session id>`, the home's uuid) once `session/new` has given it.

const HOME_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One thread's home: its id (a uuid) and its folder. */
export interface ThreadHome {
  readonly id: string;
  readonly dir: string;
}

/** The home of the thread being continued, as Baton noted it; else a new one. */
export function threadHome(root: string, resumeSessionId: string | undefined): ThreadHome {
  const id = (resumeSessionId ? homeOf(root, resumeSessionId) : undefined) ?? randomUUID();
  return { id, dir: join(root, "homes", id) };
}

/** The home that holds session `sessionId`, as Baton noted it; undefined if none was. */
export function homeOf(root: string, sessionId: string): string | undefined {
  if (!THREAD_ID.test(sessionId)) return undefined;
  try {
    const id = inStoreSync(root, join(root, "sessions", sessionId), (at) => readAgentFile(at))?.trim();
    return id && HOME_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Notes that home `id` holds session `sessionId`. A store that refuses it costs the thread its resume only. */
export function noteHome(root: string, sessionId: string, id: string): void {
  if (!THREAD_ID.test(sessionId)) return;
  const dir = join(root, "sessions");
  try {
    inStoreSync(root, dir, (at) => mkdirSync(at, { recursive: true, mode: DIR_MODE }));
    inStoreSync(root, join(dir, sessionId), (at) => writeFileAtomicSync(at, `${id}\n`));
  } catch {}
}

/**
 * Makes each folder of `dirs` (inside `root`, the backend's folder of the run store) one level at a
 * time, never through a link: the worker may write its home, and could have put one there.
 */
export function makeStoreDirs(root: string, dirs: readonly string[]): void {
  mkdirSync(root, { recursive: true, mode: DIR_MODE });
  for (const target of dirs) {
    let dir = root;
    for (const part of relative(root, target).split(sep).filter(Boolean)) {
      dir = join(dir, part);
      inStoreSync(root, dir, (at) => {
        try {
          mkdirSync(at, { mode: DIR_MODE });
        } catch (error) {
          if (errnoOf(error) !== "EEXIST") throw error; // a link in its place is refused at the next step
        }
      });
    }
  }
}

/** Writes (replaces) a file of the store, never through a link. */
export function writeStoreFile(root: string, path: string, text: string): void {
  inStoreSync(root, path, (at) => writeFileAtomicSync(at, text));
}
