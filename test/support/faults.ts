import { execFileSync } from "node:child_process";
import { readFileSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Baton } from "../../dist/index.js";
import { alive, processesWithEnv, sleep, type Workspace } from "./harness.ts";

// Faults injected from outside: a small tmpfs under the run store, full or read-only, and processes
// killed by hand. Mounting needs root; CI runs as root, so a refused mount fails the test, never skips it.

/** Mounts a tmpfs of `kib` KiB, owner-only, on `dir` (which must exist). */
export function mountTmpfs(dir: string, kib: number): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0700`, "tmpfs", dir], { stdio: "pipe" });
}

export function remount(dir: string, mode: "ro" | "rw"): void {
  execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: "pipe" });
}

/** Unmounts `dir`; lazily if something still holds it, so that a failed test cannot leave a mount. */
export function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  }
}

/** Sets or clears the immutable attribute: no entry in an immutable folder can be made or replaced. */
export function immutable(path: string, on: boolean): void {
  execFileSync("chattr", [on ? "+i" : "-i", path], { stdio: "pipe" });
}

/** Fills the file system holding `dir` with one file until it refuses more; returns that file. */
export function fillDisk(dir: string): string {
  const path = join(dir, "filler");
  const { bavail, bsize } = statfsSync(dir);
  try {
    writeFileSync(path, Buffer.alloc(bavail * bsize + 1024 * 1024));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
  if (statfsSync(dir).bavail !== 0) throw new Error(`${dir} still has room after filling it`);
  return path;
}

export function freeDisk(filler: string): void {
  unlinkSync(filler);
}

/** Shuts the workspace's supervisor down, killing it if it does not go; resolves once it is gone. */
export async function stopSupervisor(ws: Workspace): Promise<void> {
  const pid = ws.supervisorPid();
  await ws.baton(["shutdown"]);
  if (!pid) return;
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

export async function waitForState(ws: Workspace, id: string, state: string, ms = 30_000) {
  // On the workspace's event stream: from a snapshot, then its state events, never by polling `ls`.
  const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
  try {
    const signal = AbortSignal.timeout(ms);
    const { workers, seq } = await baton.list(signal);
    const info = workers.find((w) => w.id === id);
    if (info?.state === state) return info;
    for await (const event of baton.watch({ since: seq, workers: [id], signal })) {
      if (event.type === "state" && event.to === state) {
        return (await baton.list()).workers.find((w) => w.id === id)!;
      }
    }
    throw new Error(`${id} never reached ${state}: ${JSON.stringify(info)}`);
  } finally {
    baton.close();
  }
}

/** Waits until `check` holds, polling; throws with `what` after `ms`. */
export async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Live processes of worker `id` of this workspace, found by the marker Baton puts in their environment. */
export function workerProcesses(ws: Workspace, id: string): number[] {
  return processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "latin1").includes(`BATON_HOME=${ws.home}\0`);
    } catch {
      return false;
    }
  });
}

/** Asserts the shape every CLI failure must have: one line on stderr, no stack trace, no internal error. */
export function oneLineError(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  if (lines.length !== 1 || !lines[0]?.startsWith("baton: ")) {
    throw new Error(`expected one "baton: ..." line on stderr, got:\n${stderr}`);
  }
  if (/internal error|unexpected error|\n\s+at /.test(stderr))
    throw new Error(`not a clear error: ${stderr}`);
  return lines[0];
}
