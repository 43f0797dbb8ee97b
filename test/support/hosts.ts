import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, processesWithEnv, type Workspace } from "./harness.js";
import type { TestRedis } from "./redis.js";

/**
 * A `baton host` process in its own folder, taking a workspace's jobs from the test Redis. Its output
 * lines are kept; `stop()` ends it and anything its workers left.
 */
export class TestHost {
  readonly lines: string[] = [];
  private exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly home: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static async start(
    ws: Pick<Workspace, "env" | "dir">,
    redis: TestRedis,
    options: {
      name: string;
      workspace: string;
      slots?: number;
      lockMs?: number;
      cwd?: string;
      /** Runs the host through this (a network namespace of its own). */
      wrap?: (file: string, args: string[]) => [string, string[]];
    },
    dir = mkdtempSync(join(tmpdir(), `baton-host-${options.name}-`)),
  ): Promise<TestHost> {
    const env: NodeJS.ProcessEnv = { ...ws.env, BATON_REDIS_URL: redis.url };
    delete env.BATON_HOME;
    const args = [CLI, "--home", join(dir, "store"), "host", "--workspace", options.workspace];
    args.push("--name", options.name, "--slots", String(options.slots ?? 4));
    args.push("--lock-ms", String(options.lockMs ?? 2_000));
    const cwd = options.cwd ?? ws.dir;
    const [file, argv] = options.wrap ? options.wrap(process.execPath, args) : [process.execPath, args];
    const child = spawn(file, argv, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    const host = new TestHost(options.name, dir, child);
    await new Promise<void>((resolve, reject) => {
      let buffer = "";
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) {
          host.lines.push(line);
          if (line.includes(": ready:")) resolve();
        }
      });
      child.once("exit", (code) =>
        reject(new Error(`baton host ${options.name} exited (${code}): ${stderr}`)),
      );
    });
    return host;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Processes of the workers this host started (they carry its store in BATON_HOME). */
  agents(): number[] {
    return processesWithEnv(`BATON_HOME=${join(this.home, "store")}`);
  }

  /** The machine dies: the host and every process of its workers get SIGKILL at once. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    for (const pid of this.agents()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await this.exited;
  }

  /** A host started again in this one's folder (after `kill`): its store recovers, and it takes jobs. */
  restart(
    ws: Pick<Workspace, "env" | "dir">,
    redis: TestRedis,
    workspace: string,
    lockMs: number,
  ): Promise<TestHost> {
    return TestHost.start(ws, redis, { name: this.name, workspace, lockMs }, this.home);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    for (const pid of this.agents()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
