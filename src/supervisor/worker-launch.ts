import { closeSync, constants, lstatSync, mkdirSync, openSync, rmSync } from "node:fs";
import { type FileHandle, lstat, open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, LaunchPlan } from "../backend/backend.js";
import { agentStateDir } from "../backend/registry.js";
import {
  agentDaemonFolders,
  confiner,
  direct,
  FolderShare,
  launcherIn,
  reachableSockets,
  Sandbox,
  type SweepReport,
  workerNice,
  writeRoots,
} from "../confine/index.js";
import { FILE_MODE } from "../store/atomic.js";
import { inStore, inStoreSync } from "../store/no-follow.js";
import type { Store } from "../store/store.js";
import { trustedStoresDir } from "../store/trusted.js";
import type { WorkerSpec } from "../worker/types.js";
import { endpointFor } from "./endpoint.js";
import { supervisorSocketCheck } from "./supervisor-sockets.js";

/** Read once, at the first worker: the supervisor's environment is what it was started with. */
let workerNiceOnce: number | undefined;
const niceOfWorkers = () => (workerNiceOnce ??= workerNice());

/** How one attempt of a worker is started, and what is cleared away once it ends. */
export interface WorkerLaunch {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /**
   * The worker's own temporary folder. Confined, it is the sandbox's own (a tmpfs, never on disk);
   * unconfined, a folder in the store, made for each attempt and removed after it.
   */
  readonly tmpDir: string;
  /** Where the agent leaves its answer (codex's `-o`): in the worker's store folder, empty at the start. */
  readonly lastMessageFile: string;
  /** Baton's sandbox, when the worker is confined. */
  readonly sandbox: Sandbox | undefined;
  /** Its place among the writers sharing the folders it may write: see confine/shared-folders.ts. */
  readonly share: FolderShare;
  /** A `pipes` backend's conversation with its agent. */
  readonly converse?: LaunchPlan["converse"];
}

/**
 * The agent's command for one attempt: the backend's launch plan, in Baton's sandbox unless the
 * worker is unconfined, with a fresh TMPDIR of its own. Throws when it cannot start.
 */
export function launchWorker(
  store: Store,
  spec: WorkerSpec,
  backend: Backend,
  baseEnv: Record<string, string>,
  attempt: { readonly promptFile?: string; readonly resumeThreadId?: string },
): WorkerLaunch {
  const scopePaths = spec.scope.kind === "write" ? spec.scope.paths : [];
  // Joined first: the mount points it may make are there before the sandbox's layout is read.
  const share = FolderShare.join(scopePaths, { mountPoints: backend.makesMountPoints === true });
  try {
    return launchSharing(share, store, spec, backend, baseEnv, attempt);
  } catch (error) {
    share.leave();
    throw error;
  }
}

function launchSharing(
  share: FolderShare,
  ...[store, spec, backend, baseEnv, attempt]: Parameters<typeof launchWorker>
): WorkerLaunch {
  const scopePaths = spec.scope.kind === "write" ? spec.scope.paths : [];
  const roots = writeRoots(scopePaths);
  const confining = spec.confinement === "baton";
  const tmpDir = join(store.workerDir(spec.id), "tmp");
  if (!confining) freshTmpDir(store, tmpDir);
  const lastMessageFile = emptyAnswerFile(store, spec.id);
  const promptFile = attempt.promptFile ?? store.file(spec.id, "prompt.txt");
  const schemaFile = spec.outputSchema ? store.file(spec.id, "output-schema.json") : undefined;
  const plan = backend.launch(spec, {
    promptFile,
    ...(attempt.resumeThreadId ? { resumeThreadId: attempt.resumeThreadId } : {}),
    lastMessageFile,
    outputSchemaFile: schemaFile,
    tmpDir,
    writeRoots: roots,
    hidden: [store.home],
    agentStateDir: agentStateDir(store.home, backend),
  });
  const env = { ...baseEnv, ...plan.env, TMPDIR: tmpDir };
  const launcher = launcherIn(store.home);
  const converse = plan.converse ? { converse: plan.converse } : {};
  if (!confining) {
    return {
      ...direct(plan, launcher, niceOfWorkers()),
      env,
      tmpDir,
      lastMessageFile,
      sandbox: undefined,
      share,
      ...converse,
    };
  }
  const confined = confiner();
  if (!confined.ok) throw new Error(`cannot confine the worker: ${confined.why}`);
  const homes = backend.agentHomes(env);
  for (const home of homes) mkdirSync(home, { recursive: true, mode: 0o700 });
  // The user's own agents' daemons are not reachable from inside: an empty folder of the sandbox's
  // own in their place, mounted on the host's (made first where there is none, as codex would).
  const daemons = agentDaemonFolders().filter(ownFolder);
  // The store is hidden; an isolated writer's worktree lives in it, with a `.git` that says where
  // Baton's git looks, so that one stays read-only.
  const worktree = join(store.home, "worktrees", spec.id);
  const storesDir = trustedStoresDir();
  const sandbox = Sandbox.for(confined, {
    scope: scopePaths,
    // And the list of the user's stores (see store/trusted.ts), should a scope contain it.
    readOnly: [join(worktree, ".git"), ...(storesDir ? [storesDir] : [])],
    hidden: [store.home],
    readable: [
      promptFile,
      ...(schemaFile ? [schemaFile] : []),
      ...(spec.isolate ? [worktree] : []),
      ...(launcher ? [launcher] : []),
    ],
    scratch: [lastMessageFile, ...homes],
    private: [tmpDir, ...daemons],
    sockets: reachableSockets(undefined, supervisorSocketCheck(ownSocketOf(store))),
  });
  return {
    ...sandbox.wrap(plan, spec.cwd, launcher, niceOfWorkers()),
    env,
    tmpDir,
    lastMessageFile,
    sandbox,
    share,
    ...converse,
  };
}

/**
 * Once the agent has ended and its answer has been read: the answer file is emptied (it holds the
 * agent's words unredacted, and a secret they repeat must not stay on disk), an unconfined worker's
 * TMPDIR is removed (a confined one's went with its sandbox), and what a file-scoped writer made
 * beside its file is moved into its store folder. A store that cannot be changed now (full,
 * read-only, immutable) must not keep the end from being recorded: the problem is returned, the
 * folder found again later.
 */
export async function clearAfter(
  store: Store,
  spec: WorkerSpec,
  launch: Pick<WorkerLaunch, "tmpDir" | "lastMessageFile" | "sandbox" | "share">,
): Promise<{ outsideScope: SweepReport | undefined; problem: string | undefined }> {
  let problem: string | undefined;
  const gone = [launch.lastMessageFile, ...(launch.sandbox ? [] : [launch.tmpDir])];
  for (const path of gone) {
    try {
      // The answer file is emptied where it is, a folder removed; both off the event loop, where a
      // file system waiting on its disk holds up no other worker.
      await inStore(store.home, path, async (at) => {
        if (path !== launch.lastMessageFile || !(await emptyInPlace(at)))
          await rm(at, { recursive: true, force: true });
      });
    } catch (error) {
      problem ??= `${path === launch.tmpDir ? "its temporary folder" : "its answer file"} stays: ${(error as Error).message}`;
    }
  }
  const report = launch.sandbox?.sweep(
    join(store.workerDir(spec.id), "outside-scope"),
    launch.share.allowed(),
  );
  launch.share.leave();
  const outsideScope =
    report && report.moved.length + report.left.length + report.restored.length > 0 ? report : undefined;
  return { outsideScope, problem };
}

/** Each store's supervisor socket, worked out once (it hashes the store's path). */
const ownSockets = new WeakMap<Store, string>();
function ownSocketOf(store: Store): string {
  const known = ownSockets.get(store);
  if (known !== undefined) return known;
  const socket = endpointFor(store.home).socket;
  ownSockets.set(store, socket);
  return socket;
}

/** A launch whose agent never started: what it held for its run is let go. */
export function releaseLaunch(launch: Pick<WorkerLaunch, "share">): void {
  launch.share.leave();
}

/**
 * Makes the folder `path`, owner-only, unless something is there already; true if it is then a folder
 * of this user's own. Anything else there (another user's folder, a link) is left as it is and never
 * mounted on: a mount on a link lands where the link points, which another user of a shared /tmp
 * chooses. If it cannot be made, the agent meets the same problem as it would without Baton.
 */
function ownFolder(path: string): boolean {
  try {
    // Looked at first: it is there at every spawn but the first, and a refused mkdir costs an error.
    let found = lstatSync(path, { throwIfNoEntry: false });
    if (!found) {
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch {}
      found = lstatSync(path);
    }
    return found.isDirectory() && found.uid === process.getuid?.();
  } catch {
    return false;
  }
}

/** An unconfined worker's temporary folder, empty at the start of each attempt. */
function freshTmpDir(store: Store, dir: string): void {
  // Reached through the store's own folders (never a link in their place); `rm` never follows a link
  // the agent left inside.
  inStoreSync(store.home, dir, (at) => {
    rmSync(at, { recursive: true, force: true });
    mkdirSync(at, { mode: 0o700 });
  });
}

/**
 * The file the agent's answer goes to, emptied for this attempt (an earlier attempt's answer is not
 * this one's). A sandbox makes it, and nothing else of the store, writable.
 */
function emptyAnswerFile(store: Store, id: string): string {
  const file = store.file(id, "last-message.txt");
  inStoreSync(store.home, file, (at) => {
    // A new file at each attempt: nothing an earlier attempt left running still writes into it. A
    // link (or anything else) an unconfined agent left in its place is removed, never followed.
    rmSync(at, { recursive: true, force: true });
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    closeSync(openSync(at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FILE_MODE));
  });
  return file;
}

/**
 * Empties the file at `at` where it is, if it is a regular file of one name (never through a link,
 * never another name of some other file, never a device or FIFO opened); false, changing nothing, for
 * anything else. Emptied, not removed: a file freed at every worker costs the file system more than
 * one kept (ext4 without a journal skips every inode freed in the last minute when it makes a file).
 * Off the event loop: the agent wrote the file just before it ended, so emptying it frees a block the
 * file system has just allocated, which on a disk mounted with `discard` waits on the device.
 */
async function emptyInPlace(at: string): Promise<boolean> {
  const { O_WRONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
  let file: FileHandle;
  try {
    if (!(await lstat(at)).isFile()) return false;
    file = await open(at, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch {
    return false;
  }
  try {
    const found = await file.stat();
    if (!found.isFile() || found.nlink !== 1) return false;
    await file.truncate(0);
    return true;
  } catch {
    return false;
  } finally {
    await file.close().catch(() => {});
  }
}
