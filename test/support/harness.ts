import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { IPty } from "@lydell/node-pty";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { modelScriptLine } from "../../dist/scripted-model/directives.js";
import type { Script, ScriptedModel } from "../../dist/scripted-model/index.js";
import { startScriptedModel } from "../../dist/scripted-model/server.js";

export const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
export const CLI = join(ROOT, "dist/cli/main.js");
export const FIXTURES = join(ROOT, "test/fixtures");

/** The native codex binary the devDependency installed. */
export const CODEX_BIN = (() => {
  const vendor = join(ROOT, "node_modules/@openai", `codex-${process.platform}-${process.arch}`, "vendor");
  const triple = process.arch === "x64" ? "x86_64" : "aarch64";
  const libc = process.platform === "linux" ? "unknown-linux-musl" : "apple-darwin";
  return join(vendor, `${triple}-${libc}`, "bin", "codex");
})();

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A throwaway workspace with its own run store, a scripted model and a CODEX_HOME pointing at it.
 * `cleanup()` shuts the supervisor down and removes everything.
 */
export class Workspace {
  readonly dir: string;
  readonly home: string;
  readonly codexHome: string;
  env: NodeJS.ProcessEnv;
  /** The CLI this workspace runs: Baton's build, unless a test points it at another install. */
  cli = CLI;

  private constructor(readonly model: ScriptedModel) {
    this.dir = mkdtempSync(join(tmpdir(), "baton-test-"));
    this.home = join(this.dir, ".baton");
    this.codexHome = join(this.dir, "codex-home");
    this.env = {
      ...process.env,
      BATON_HOME: this.home,
      // The list of the user's stores (see store/trusted.ts) goes with the workspace.
      XDG_STATE_HOME: join(this.dir, "state"),
      CODEX_HOME: this.codexHome,
      SCRIPTED_KEY: "test-key",
      BATON_CODEX_BIN: CODEX_BIN,
      BATON_IDLE_EXIT_MS: "120000",
    };
    delete this.env.BATON_WORKER_ID;
  }

  static async create(script: Script): Promise<Workspace> {
    const model = await startScriptedModel({ script });
    const workspace = new Workspace(model);
    await model.writeCodexHome(workspace.codexHome);
    return workspace;
  }

  /** Runs the baton CLI in this workspace. */
  baton(
    args: readonly string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ) {
    return runNode([this.cli, ...args], {
      env: options.env ?? this.env,
      cwd: options.cwd ?? this.dir,
      input: options.input,
    });
  }

  /** Runs the CLI and fails unless it exits 0. */
  async ok(
    args: readonly string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
  ): Promise<string> {
    const result = await this.baton(args, options);
    if (result.code !== 0) {
      throw new Error(`baton ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`);
    }
    return result.stdout;
  }

  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"])) as T;
  }

  /**
   * Whether codex's session file for `threadId` holds `text` yet. Codex writes that file a moment after
   * it prints the thread, and a resume replays it: a test that kills a worker to see it resumed waits
   * for its task to be there first.
   */
  codexSessionHolds(threadId: string | undefined, text: string): boolean {
    const file = this.codexSessionFile(threadId);
    try {
      return file !== undefined && readFileSync(file, "utf8").includes(text);
    } catch {
      return false;
    }
  }

  /** Codex's session file for `threadId` under this workspace's CODEX_HOME, if it has made one. */
  codexSessionFile(threadId: string | undefined): string | undefined {
    if (!threadId) return undefined;
    const root = join(this.codexHome, "sessions");
    try {
      const entry = readdirSync(root, { recursive: true }).find((e) =>
        String(e).endsWith(`-${threadId}.jsonl`),
      );
      return entry === undefined ? undefined : join(root, String(entry));
    } catch {
      return undefined;
    }
  }

  /**
   * What worker `id` prints, read by `poll` as the reader `reader` (each poll waits on the worker's
   * output, up to a second), until `done` holds for what was read; fails after a minute.
   */
  async printed(id: string, done: RegExp | ((seen: string) => boolean), reader?: string): Promise<string> {
    const holds = typeof done === "function" ? done : (seen: string) => done.test(seen);
    const as = reader === undefined ? [] : ["--reader", reader];
    const deadline = Date.now() + 60_000;
    let seen = "";
    while (!holds(seen)) {
      if (Date.now() > deadline)
        throw new Error(`worker ${id} never printed what was awaited: ${JSON.stringify(seen.slice(-2000))}`);
      seen += (await this.json<{ output: string }>(["poll", id, ...as, "--wait", "1000"])).output;
    }
    return seen;
  }

  supervisorPid(): number | undefined {
    try {
      return (JSON.parse(readFileSync(join(this.home, "supervisor.json"), "utf8")) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  }

  async cleanup(): Promise<void> {
    const pid = this.supervisorPid();
    // No test may have driven a worker through a move its state machine refuses (a bug of Baton's).
    const listing = pid && alive(pid) ? await this.baton(["ls", "--json"]).catch(() => undefined) : undefined;
    const refused = /"[^"]*cannot become [a-z_]+[^"]*"/.exec(listing?.stdout ?? "")?.[0];
    await this.baton(["shutdown"], { env: { ...this.env, BATON_HOME: this.home } }).catch(() => {});
    if (pid) {
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
    await this.model.close();
    rmSync(this.dir, { recursive: true, force: true });
    if (refused) throw new Error(`the supervisor refused a worker's state move: ${refused}`);
  }
}

export function runNode(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer | undefined },
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [...args],
      { env: options.env, cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Everything `terminal` prints, kept from now on, and a wait for some of it: `until(pattern)` settles
 * once the output matches, or once the terminal has ended (then the caller's own check of `text`
 * says what it printed instead). Driven by the terminal's own events, never by polling.
 */
export function printedBy(terminal: IPty): { readonly text: string; until(pattern: RegExp): Promise<void> } {
  let text = "";
  const checks = new Set<() => void>();
  terminal.onData((data) => {
    text += data;
    for (const check of [...checks]) check();
  });
  const ended = new Promise<void>((resolve) => terminal.onExit(() => resolve()));
  return {
    get text() {
      return text;
    },
    until(pattern) {
      const matched = new Promise<void>((resolve) => {
        const check = () => {
          if (!pattern.test(text)) return;
          checks.delete(check);
          resolve();
        };
        checks.add(check);
        check();
      });
      return Promise.race([matched, ended]);
    },
  };
}

/** An MCP client connected to `baton mcp` started in `ws.dir`, as an agent's MCP client starts it. */
export async function connectMcp(
  ws: { readonly dir: string; readonly env: NodeJS.ProcessEnv },
  options: { readonly name?: string; readonly stderr?: "inherit" | "ignore" } = {},
): Promise<Client> {
  const client = new Client({ name: options.name ?? "test", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp"],
      cwd: ws.dir,
      env: ws.env as Record<string, string>,
      ...(options.stderr ? { stderr: options.stderr } : {}),
    }),
  );
  return client;
}

/**
 * Model steps that keep a worker busy for minutes. One long command is not enough: codex hands a
 * command back to the model after its yield time (10 s by default, at most 30 s) while it still runs,
 * and the model's next step would come at once; so each of these turns starts another long command.
 */
export function busy(command = "sleep 600", turns = 12): { type: "shell"; command: string }[] {
  return Array.from({ length: turns }, () => ({ type: "shell" as const, command }));
}

/** Pids of live processes whose environment carries `NAME=value`. */
export function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(entry))
        found.push(Number(name));
    } catch {}
  }
  return found;
}

/**
 * A task whose worker runs a long command on its first attempt and answers on any later one: the
 * worker of a supervisor killed meanwhile finishes once resumed.
 */
export function resumableTask(name: string): string {
  return `${name}\n${modelScriptLine([
    {
      type: "attempts",
      steps: [
        { type: "shell", command: "sleep 120" },
        { type: "message", text: `${name} finished after resume` },
      ],
    },
    { type: "message", text: `${name} finished after resume` },
  ])}`;
}
