import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/directives.js";
import { CLI, Workspace } from "./support/harness.js";
import { TestHost } from "./support/hosts.js";
import { TestRedis } from "./support/redis.js";

// What a workspace on a queue does when Redis itself fails it (docs/scale-out.md): Redis restarting
// empty, and Redis spoken to over TLS only (`rediss://`).

interface Result {
  id: string;
  state: string;
  answer: string;
  resumes: number;
  placement?: { host: string; lostHosts: string[] };
}

const task = (name: string, seconds: number) =>
  `${name}\n${modelScriptLine([
    { type: "shell", command: `sleep ${seconds}` },
    { type: "message", text: `${name} done` },
  ])}`;

/** Runs the CLI until its output matches `pattern`, then ends it. */
function untilPrinted(ws: Workspace, args: string[], pattern: RegExp): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { env: ws.env, cwd: ws.dir });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        child.kill("SIGTERM");
        resolve();
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`baton ${args.join(" ")} exited ${code} before ${pattern}: ${out}`)),
    );
  });
}

describe("Redis restarting empty", () => {
  let redis: TestRedis;
  let ws: Workspace;
  let host: TestHost;

  before(async () => {
    redis = await TestRedis.start();
    ws = await Workspace.create(directiveScript());
    const { workspace } = await ws.json<{ workspace: string }>(["config", "--redis", redis.url]);
    host = await TestHost.start(ws, redis, { name: "solo", workspace, lockMs: 2_000 });
  });
  after(async () => {
    await ws?.cleanup();
    await host?.stop();
    await redis?.stop();
  });

  test("is reported, and the worker it held runs again from its prompt: never taken as done", async () => {
    const id = (await ws.ok(["spawn", task("survive-redis", 4)])).trim();
    await untilPrinted(ws, ["watch", id, "--json", "--since", "0"], /"type":"started"/);
    await redis.restart();
    const waited = await ws.baton(["wait", id]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const result = await ws.json<Result>(["result", id]);
    assert.equal(result.state, "succeeded");
    assert.equal(result.answer, "survive-redis done");
    assert.ok(result.resumes >= 1, `resumes ${result.resumes}`);
    const listed = await ws.json<{ problems: string[] }>(["ls"]);
    assert.ok(
      listed.problems.some(
        (p) => p.includes(`worker ${id}: its job`) && p.includes("did Redis restart empty?"),
      ),
      JSON.stringify(listed.problems),
    );
  });
});

describe("Redis over TLS (rediss://)", () => {
  let certs: string;
  let redis: TestRedis;
  let ws: Workspace;
  let host: TestHost | undefined;

  before(async () => {
    certs = mkdtempSync(join(tmpdir(), "baton-tls-"));
    const [cert, key] = [join(certs, "cert.pem"), join(certs, "key.pem")];
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert].concat([
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ]),
      { stdio: "ignore" },
    );
    redis = await TestRedis.start({ cert, key });
    ws = await Workspace.create(directiveScript());
  });
  after(async () => {
    await ws?.cleanup();
    await host?.stop();
    await redis?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  test("a certificate nobody vouches for is refused in one line; trusted, workers run over TLS", async () => {
    const refused = await ws.baton(["config", "--redis", redis.url]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^baton: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: self-signed certificate: trust its certificate's CA \(NODE_EXTRA_CA_CERTS=ca\.pem\)$/m,
    );
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.doesNotMatch(refused.stderr, new RegExp(redis.password));

    // Trusted the way Node trusts a private CA: NODE_EXTRA_CA_CERTS, for the coordinator and the host.
    ws.env.NODE_EXTRA_CA_CERTS = join(certs, "cert.pem");
    const { workspace } = await ws.json<{ workspace: string }>(["config", "--redis", redis.url]);
    host = await TestHost.start(ws, redis, { name: "tls-host", workspace, lockMs: 2_000 });
    const id = (await ws.ok(["spawn", task("over-tls", 0)])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await ws.json<Result>(["result", id]);
    assert.equal(result.state, "succeeded");
    assert.equal(result.answer, "over-tls done");
    assert.equal(result.placement?.host, "tls-host");
  });
});
