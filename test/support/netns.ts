import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./harness.js";

const BRIDGE = join(ROOT, "test/support/netns-bridge.mjs");

/** Whether this machine lets a test start a process in a network namespace of its own (root, unshare). */
export function netnsAvailable(): boolean {
  try {
    execFileSync("unshare", ["-n", "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Unix sockets that lead to ports of this machine's loopback: what a process in a network namespace of
 * its own reaches, through test/support/netns-bridge.mjs, at the same port numbers on its own loopback.
 */
export class LoopbackBridge {
  private constructor(
    private readonly dir: string,
    private readonly servers: net.Server[],
    private readonly sockets: Map<number, string>,
  ) {}

  static async open(ports: readonly number[]): Promise<LoopbackBridge> {
    const dir = mkdtempSync(join(tmpdir(), "baton-netns-"));
    const sockets = new Map<number, string>();
    const servers: net.Server[] = [];
    for (const port of ports) {
      const socket = join(dir, `${port}.sock`);
      const server = net.createServer((inbound) => {
        const outbound = net.connect(port, "127.0.0.1");
        inbound.pipe(outbound).pipe(inbound);
        const end = () => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.once("error", end).once("close", end);
        outbound.once("error", end).once("close", end);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socket, resolve);
      });
      servers.push(server);
      sockets.set(port, socket);
    }
    return new LoopbackBridge(dir, servers, sockets);
  }

  /** `file args...` run in a network namespace of its own that reaches only the bridged ports. */
  wrap(file: string, args: readonly string[]): [string, string[]] {
    const forwards = [...this.sockets].flatMap(([port, socket]) => ["--forward", `${port}=${socket}`]);
    return ["unshare", ["-n", process.execPath, BRIDGE, ...forwards, "--", file, ...args]];
  }

  close(): void {
    for (const server of this.servers) server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
