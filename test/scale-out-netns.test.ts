import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/directives.js";
import { Workspace } from "./support/harness.js";
import { TestHost } from "./support/hosts.js";
import { LoopbackBridge, netnsAvailable } from "./support/netns.js";
import { TestRedis } from "./support/redis.js";

// Hosts in network namespaces of their own (where the machine allows: root and unshare): each reaches
// Redis and the scripted model through a bridge to the test's loopback, and nothing else of this
// machine's network: not the coordinator's socket, not another host. What they share is the queue.

interface Result {
  id: string;
  state: string;
  answer: string;
  placement?: { host: string };
}

const available = netnsAvailable();
let redis: TestRedis;
let ws: Workspace;
let bridge: LoopbackBridge;
const hosts: TestHost[] = [];

describe("hosts in network namespaces of their own", {
  skip: available ? false : "this machine does not allow unshare -n",
}, () => {
  before(async () => {
    redis = await TestRedis.start();
    ws = await Workspace.create(directiveScript());
    const { workspace } = await ws.json<{ workspace: string }>(["config", "--redis", redis.url]);
    bridge = await LoopbackBridge.open([redis.port, Number(new URL(ws.model.baseUrl).port)]);
    for (const name of ["ns-a", "ns-b"]) {
      hosts.push(
        await TestHost.start(ws, redis, { name, workspace, slots: 2, wrap: (f, a) => bridge.wrap(f, a) }),
      );
    }
  });
  after(async () => {
    await ws?.cleanup();
    await Promise.all(hosts.map((host) => host.stop()));
    bridge?.close();
    await redis?.stop();
  });

  test("workers run on both hosts, each host in a namespace of its own, and every answer comes back", async () => {
    const mine = readlinkSync("/proc/self/ns/net");
    const spaces = hosts.map((host) => readlinkSync(`/proc/${host.pid}/ns/net`));
    for (const space of spaces) assert.notEqual(space, mine, "a host runs in the test's network namespace");
    assert.notEqual(spaces[0], spaces[1], "the two hosts share a network namespace");
    const tasks = Array.from(
      { length: 4 },
      (_, i) =>
        `ns-${i}\n${modelScriptLine([
          { type: "shell", command: "sleep 1" },
          { type: "message", text: `answer of ns-${i}` },
        ])}`,
    );
    const ids = (await ws.ok(["spawn", ...tasks.flatMap((t) => ["--task", t])])).trim().split("\n");
    assert.equal((await ws.baton(["wait", ...ids])).code, 0);
    const results = await ws.json<Result[]>(["result", ...ids]);
    for (const [i, result] of results.entries()) {
      assert.equal(result.state, "succeeded", JSON.stringify(result));
      assert.equal(result.answer, `answer of ns-${i}`);
    }
    assert.deepEqual([...new Set(results.map((r) => r.placement?.host))].sort(), ["ns-a", "ns-b"]);
  });
});
