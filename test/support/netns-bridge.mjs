// Runs a command in the network namespace this process was started in (by `unshare -n`), where only
// a loopback of its own exists: it brings that loopback up and listens on 127.0.0.1:PORT for each
// `--forward PORT=SOCKET`, passing every connection through the Unix socket SOCKET (a file, reachable
// from every namespace), which the test serves from the machine's own loopback. Nothing else of the
// machine's network is reachable from the command: a host in here talks to Redis and the model only.
//
//   unshare -n node netns-bridge.mjs --forward 6379=/tmp/x/redis.sock -- node baton.js host ...
import { execFileSync, spawn } from "node:child_process";
import net from "node:net";

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const forwards = [];
for (let i = 0; i < split; i += 2) {
  if (argv[i] !== "--forward") throw new Error(`netns-bridge: expected --forward, got ${argv[i]}`);
  const [port, socket] = argv[i + 1].split("=");
  forwards.push({ port: Number(port), socket });
}
execFileSync("ip", ["link", "set", "lo", "up"]);
await Promise.all(
  forwards.map(
    ({ port, socket }) =>
      new Promise((resolve, reject) => {
        const server = net.createServer((inbound) => {
          const outbound = net.connect(socket);
          inbound.pipe(outbound).pipe(inbound);
          const end = () => {
            inbound.destroy();
            outbound.destroy();
          };
          inbound.once("error", end).once("close", end);
          outbound.once("error", end).once("close", end);
        });
        server.once("error", reject);
        server.listen(port, "127.0.0.1", resolve);
      }),
  ),
);
const [command, ...args] = argv.slice(split + 1);
const child = spawn(command, args, { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.once("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
