import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Baton } from "../dist/index.js";
import { CLI, CODEX_BIN, ROOT } from "../test/support/harness.ts";

// The repository root, the CLI and the native codex binary the devDependency installed: the same the tests use.
export { CLI, CODEX_BIN, ROOT };
export const IDLE_AGENT = join(ROOT, "test/fixtures/idle-agent.sh");
export const STAMP_AGENT = join(ROOT, "bench/fixtures/exit-stamp.sh");

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark sanity check failed: ${message}`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** What the scripted model answers: `done: <task>`, so every answer can be checked. */
export const expectedAnswer = (task: string) => `done: ${task}`;

/** The flags Baton's codex backend passes (src/backend/codex.ts), for a read-only worker. */
export function codexArgs(cwd: string, lastMessageFile: string): string[] {
  return [
    "exec",
    "--json",
    "--skip-git-repo-check",
    "-C",
    cwd,
    "--sandbox",
    "read-only",
    "-c",
    "agents.enabled=false",
    "-o",
    lastMessageFile,
    "-",
  ];
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) that process `pid` has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU time the whole machine has used since boot (user, nice, system, irq, softirq; not idle or I/O
 * wait), in seconds: the difference over a run is what the run cost the machine, plus anything else
 * running meanwhile.
 */
export function machineCpuSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq!) / CLOCK_TICKS;
}

/** The last `agent_message` in a `codex exec --json` stream. */
export function lastAgentMessage(jsonl: string): string | undefined {
  let text: string | undefined;
  for (const line of jsonl.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const event = JSON.parse(line) as { type?: string; item?: { type?: string; text?: string } };
      if (event.type === "item.completed" && event.item?.type === "agent_message") text = event.item.text;
    } catch {}
  }
  return text;
}

/** How long an inode freed on ext4 without a journal is skipped when a new one is handed out (the kernel's RECENTCY_MIN is 60 s). */
export const RECENTLY_FREED_S = 65;
const RECENTLY_FREED_MS = RECENTLY_FREED_S * 1000;

/**
 * Waits until the files freed by what ran before no longer weigh on new ones: everything is written
 * back (`sync`), then the kernel's window for recently freed inodes passes. This machine's ext4 has no
 * journal, and such a file system skips every inode freed in the last minute (five more while its
 * block is unwritten) when it hands out a new one. Codex frees about twenty files a run (its SQLite
 * journals, locks, temporary folders): without this, whichever side of a long comparison runs second
 * makes its files among the thousands the first one freed.
 */
export async function coolDown(): Promise<void> {
  log(`waiting ${RECENTLY_FREED_MS / 1000} s for files freed so far to age (see coolDown)`);
  execFileSync("sync");
  await sleep(RECENTLY_FREED_MS);
}

/** One workspace: its own run store, and a Baton client whose supervisor serves only it. */
export interface Workspace {
  readonly dir: string;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly baton: Baton;
  readonly supervisorPid: number;
}

export async function openWorkspace(root: string, name: string): Promise<Workspace> {
  const dir = join(root, name);
  const home = join(dir, ".baton");
  for (const path of [dir, join(root, "home"), join(root, "stamps"), join(root, "tmp")])
    mkdirSync(path, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // An empty HOME for every run, bare or not: codex runs the user's shell, and their rc files (pyenv
    // init here) would otherwise dominate the timings and leave processes behind after a bare run.
    HOME: join(root, "home"),
    BATON_HOME: home,
    CODEX_HOME: join(root, "codex-home"),
    // As on a user's machine, CODEX_HOME is not under the temporary folder: with a system bubblewrap,
    // codex refuses its sandbox helpers under TMPDIR (then every command fails, and starts faster).
    // Baton gives each worker a TMPDIR of its own; the bare runs get this one.
    TMPDIR: join(root, "tmp"),
    SCRIPTED_KEY: "bench-key",
    BATON_CODEX_BIN: CODEX_BIN,
    BATON_IDLE_EXIT_MS: "60000",
    BENCH_STAMP_DIR: join(root, "stamps"),
  };
  delete env.BATON_WORKER_ID;
  const baton = await Baton.open({ home, cwd: dir, env });
  return { dir, home, env, baton, supervisorPid: supervisorPidOf(home) };
}

export function supervisorPidOf(home: string): number {
  return (JSON.parse(readFileSync(join(home, "supervisor.json"), "utf8")) as { pid: number }).pid;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Shuts the supervisor down (killing it if it does not go). Its folder stays until the whole run
 * ends: this machine's ext4 has no journal, and such a file system skips every inode freed in the
 * last minute or more when it hands out a new one, so removing a workspace here would slow the file
 * creations of the sections after it, Baton's store and the bare runs' files alike.
 */
export async function closeWorkspace(ws: Workspace): Promise<void> {
  try {
    await ws.baton.shutdown(AbortSignal.timeout(30_000));
  } catch (error) {
    log(`shutdown of ${ws.home} failed: ${(error as Error).message}`);
  }
  ws.baton.close();
  for (let i = 0; i < 100 && alive(ws.supervisorPid); i++) await sleep(100);
  if (alive(ws.supervisorPid)) process.kill(ws.supervisorPid, "SIGKILL");
}

/**
 * Runs the native codex binary directly, prompt on stdin, and reads its answer from stdout. Like a Baton
 * worker in its PTY, it gets a session of its own: with the kernel's autogroup scheduling every session
 * gets its own share of the CPU, and a baseline that shared one would lose to other load on the machine.
 */
export async function runBareCodex(ws: Workspace, prompt: string, lastMessageFile: string) {
  const start = now();
  const child = spawn(CODEX_BIN, codexArgs(ws.dir, lastMessageFile), {
    cwd: ws.dir,
    env: ws.env,
    stdio: ["pipe", "pipe", "ignore"],
    detached: true,
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  child.stdin.end(prompt);
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", resolvePromise);
  });
  const answer = lastAgentMessage(out);
  return { ms: now() - start, code, answer };
}

/**
 * Pids of live processes started for this workspace's codex runs, other than its supervisor and the
 * supervisor's `baton-spawn` (which carries the workspace's environment and lives as long as it does).
 */
function codexLeftovers(ws: Workspace): number[] {
  const mark = `CODEX_HOME=${ws.env.CODEX_HOME}`;
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name) || Number(name) === ws.supervisorPid) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(mark)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const [, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const spawner = Number(ppid) === ws.supervisorPid && stat.includes("(baton-spawn)");
      if (!spawner) found.push(Number(name));
    } catch {}
  }
  return found;
}

/**
 * Waits (up to 10 s) until nothing is left of earlier codex runs, so that one run's leftovers do not
 * slow the next: a bare codex can exit while a child of its own (e.g. a `git ls-remote`) still runs,
 * where Baton kills what a worker leaves behind. Returns how long it waited.
 */
async function settle(ws: Workspace): Promise<number> {
  const start = now();
  if (codexLeftovers(ws).length === 0) return 0;
  while (codexLeftovers(ws).length > 0 && now() - start < 10_000) await sleep(20);
  return now() - start;
}

/** What {@link settle} saw after one kind of run. */
export class Leftovers {
  private runs = 0;
  private readonly waits: number[] = [];

  async settle(ws: Workspace): Promise<void> {
    this.runs += 1;
    const waited = await settle(ws);
    if (waited > 0) this.waits.push(waited);
  }

  describe(kind: string): string {
    if (this.waits.length === 0) return `no ${kind} run left a process behind`;
    return (
      `${this.waits.length} of ${this.runs} ${kind} runs left processes behind after they returned; the next ` +
      `run started once those had ended (median wait ${median(this.waits).toFixed(0)} ms, not counted in ` +
      `any timing)`
    );
  }
}

/** The `baton` bin: the native client (native/baton.c), which hands what it does not run to the CLI. */
export const BIN = join(ROOT, "dist/cli/baton");

/** How a command is started: the `baton` bin, or Node's CLI (`node dist/cli/main.js`). */
export type Via = "bin" | "node";

/** The program and arguments that run `baton ARGS` by `via`. */
export const commandLine = (args: readonly string[], via: Via): [string, string[]] =>
  via === "bin" ? [BIN, [...args]] : [process.execPath, [CLI, ...args]];

/** Runs the baton CLI as its own process: Node's CLI, or the bin. */
export function runCli(ws: Workspace, args: readonly string[], via: Via = "node"): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const [file, argv] = commandLine(args, via);
    execFile(file, argv, { cwd: ws.dir, env: ws.env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`baton ${args.join(" ")} failed: ${stderr}${stdout}`));
      else resolvePromise(stdout);
    });
  });
}

/** A measurement's part of the report. */
export interface Section {
  readonly title: string;
  /** What is measured and against which baseline, one paragraph per entry. */
  readonly about: readonly string[];
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

export interface Target {
  readonly name: string;
  readonly figure: string;
  readonly target: string;
  readonly pass: boolean;
}

export const ms = (value: number, digits = 0) => `${value.toFixed(digits)} ms`;
export const ratio = (value: number) => `${value.toFixed(2)}x`;
export const verdict = (pass: boolean) => (pass ? "PASS" : "MISS");
