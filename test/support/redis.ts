import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";

/**
 * A real redis-server (Debian's package; .ci/run installs it) on a free loopback port, with a password
 * and no persistence: what the scale-out tests run against. `stop()` ends it; `restart()` starts it
 * again, empty, on the same port (Redis lost its data).
 */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly password: string,
    private readonly tls?: { readonly cert: string; readonly key: string },
  ) {}

  /** `redis://:PASSWORD@127.0.0.1:PORT`, or `rediss://` when it speaks TLS only. */
  get url(): string {
    return `${this.tls ? "rediss" : "redis"}://:${this.password}@127.0.0.1:${this.port}`;
  }

  /** `tls`: PEM files of a certificate for 127.0.0.1 and its key; the server then speaks TLS only. */
  static async start(tls?: { readonly cert: string; readonly key: string }): Promise<TestRedis> {
    for (let attempt = 0; ; attempt++) {
      const redis = new TestRedis(await freePort(), randomBytes(16).toString("hex"), tls);
      try {
        await redis.launch();
        return redis;
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
  }

  private launch(): Promise<void> {
    const listen = this.tls
      ? ["--port", "0", "--tls-port", String(this.port), "--tls-cert-file", this.tls.cert].concat([
          "--tls-key-file",
          this.tls.key,
          "--tls-ca-cert-file",
          this.tls.cert,
          "--tls-auth-clients",
          "no",
        ])
      : ["--port", String(this.port)];
    const child = spawn(
      "redis-server",
      [...listen, "--bind", "127.0.0.1", "--requirepass", this.password].concat([
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    return new Promise((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => fail(new Error(`redis-server did not start: ${output}`)), 10_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(error);
      };
      child.once("error", (error) =>
        fail(new Error(`cannot run redis-server (apt-get install redis-server): ${error.message}`)),
      );
      child.once("exit", (code) => fail(new Error(`redis-server exited (${code}): ${output}`)));
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve();
        }
      });
    });
  }

  /** Ends it (SIGKILL: no persistence to write) and starts an empty one on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
