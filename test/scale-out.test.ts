import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { queueNames } from "../dist/queue/names.js";
import { WIRE_VERSION } from "../dist/queue/wire.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/directives.js";
import { busy, CLI, FIXTURES, sleep, Workspace } from "./support/harness.js";
import { TestHost } from "./support/hosts.js";
import { TestRedis } from "./support/redis.js";

// A coordinator and three hosts, all real processes, on a real redis-server: the workspace's workers
// run on the hosts, each a real codex against the scripted model (docs/scale-out.md).

/**
 * A host's lock on a job; a dead host is noticed within about twice this (the stated bound). Not
 * shorter: twelve codex starts keep two cores busy for seconds on a slow machine, and a live host whose
 * renewal came that late would lose its jobs to another (a takeover no test here asked for).
 */
const LOCK_MS = 5_000;

interface Info {
  id: string;
  state: string;
  host?: string;
  resumes: number;
}
interface Result {
  id: string;
  state: string;
  answer: string;
  resumes: number;
  threadId?: string;
  placement?: { host: string; lostHosts: string[]; resumed?: string };
  isolation?: { branch: string; commit?: string };
}
interface WatchEvent {
  seq: number;
  type: string;
  worker?: string;
  to?: string;
  at: string;
}

let redis: TestRedis;
let ws: Workspace;
let key: string;
const hosts: TestHost[] = [];
let stranger: TestHost;

/** `baton watch --json --since 0` beside the test: every event (none missed before it connects), awaited by predicate. */
class Watch {
  readonly events: WatchEvent[] = [];
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [CLI, "watch", "--json", "--since", "0", ...args], {
      env: ws.env,
      cwd: ws.dir,
    });
    let buffer = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) this.events.push(JSON.parse(line) as WatchEvent);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async until(match: (event: WatchEvent) => boolean, what: string, timeoutMs = 120_000): Promise<WatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}

/** A task whose model runs `command` first, then answers `answer`. */
const task = (name: string, command: string, answer: string) =>
  `${name}\n${modelScriptLine([
    { type: "shell", command },
    { type: "message", text: answer },
  ])}`;

/** Polls the worker's new output (on the coordinator's store) until it shows `pattern`. */
async function pollFor(id: string, pattern: RegExp): Promise<string> {
  let seen = "";
  for (let i = 0; i < 120; i++) {
    const polled = await ws.json<{ output: string }>(["poll", id, "--reader", "t", "--wait", "1000"]);
    seen += polled.output;
    if (pattern.test(seen)) return seen;
  }
  throw new Error(`${id} never printed ${pattern}: ${JSON.stringify(seen.slice(-400))}`);
}

async function spawnAll(tasks: string[]): Promise<string[]> {
  const out = await ws.ok(["spawn", "--max-parallel", "16", ...tasks.flatMap((t) => ["--task", t])]);
  return out.trim().split("\n");
}

before(async () => {
  redis = await TestRedis.start();
  ws = await Workspace.create(directiveScript());
  const config = await ws.json<{ workspace: string }>(["config", "--redis", redis.url]);
  key = config.workspace;
  assert.match(key, /^[0-9a-f]{24}$/);
  for (const name of ["host-a", "host-b", "host-c"]) {
    hosts.push(await TestHost.start(ws, redis, { name, workspace: key, lockMs: LOCK_MS }));
  }
  // A host of another workspace on the same Redis: it must take none of these jobs.
  const other = randomBytes(12).toString("hex");
  stranger = await TestHost.start(ws, redis, { name: "stranger", workspace: other, lockMs: LOCK_MS });
});

after(async () => {
  await ws?.cleanup();
  await Promise.all([...hosts, stranger].filter(Boolean).map((host) => host.stop()));
  await redis?.stop();
});

/** SIGKILLs the workspace's coordinator (its supervisor); returns its pid. */
function killCoordinator(): number {
  const pid = ws.supervisorPid();
  assert.ok(pid);
  process.kill(pid, "SIGKILL");
  return pid;
}

/**
 * `ls` after the coordinator was killed: it starts a new one. The first `ls` may reach the dying one's
 * socket, which closes: the CLI then says to run the command again, and that is what a person does.
 */
async function lsAfterKill(): Promise<{ workers: Info[] }> {
  let first = await ws.baton(["ls", "--json"]);
  if (first.code !== 0 && /closed the connection: run the command again/.test(first.stderr))
    first = await ws.baton(["ls", "--json"]);
  assert.equal(first.code, 0, first.stderr);
  return JSON.parse(first.stdout) as { workers: Info[] };
}

describe("a workspace on a queue", () => {
  test("12 workers spread over three hosts, each with its own answer, and ls says which host ran which", async () => {
    const ids = await spawnAll(
      Array.from({ length: 12 }, (_, i) => task(`spread-${i}`, "sleep 2", `answer of spread-${i}`)),
    );
    assert.equal(ids.length, 12);
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const results = await ws.json<Result[]>(["result", ...ids]);
    for (const [i, result] of results.entries()) {
      assert.equal(result.state, "succeeded");
      assert.equal(result.answer, `answer of spread-${i}`);
    }
    const listed = await ws.json<{ workers: Info[] }>(["ls"]);
    const ran = new Map(listed.workers.filter((w) => ids.includes(w.id)).map((w) => [w.id, w.host]));
    const used = new Set(ran.values());
    assert.deepEqual([...used].sort(), ["host-a", "host-b", "host-c"], JSON.stringify([...ran]));
    const table = await ws.ok(["ls"]);
    assert.match(table, /HOST/);
    for (const id of ids) assert.match(table, new RegExp(`^${id} .* host-[abc]\\s*$`, "m"));
    // Each host's own store has the workers it ran; the stranger ran none.
    assert.ok(!stranger.lines.some((line) => line.includes("job ")), stranger.lines.join("\n"));
  });

  test("a follow-up (spawn --continue) of a worker that ran on a host continues its thread there", async () => {
    const [parent = ""] = await spawnAll([task("follow-me", "echo first", "first answer")]);
    assert.equal((await ws.baton(["wait", parent])).code, 0);
    const first = await ws.json<Result>(["result", parent]);
    assert.equal(first.state, "succeeded");
    assert.ok(first.threadId);
    const child = (await ws.ok(["spawn", "--continue", parent, "and now the second part"])).trim();
    assert.equal((await ws.baton(["wait", child])).code, 0);
    const second = await ws.json<Result>(["result", child]);
    assert.equal(second.state, "succeeded", JSON.stringify(second));
    assert.equal(second.threadId, first.threadId, "the same agent thread");
    assert.match(second.placement?.host ?? "", /^host-[abc]$/);
    // The model saw the follow-up in the parent's session, with the earlier conversation before it.
    const asked = ws.model.requests.filter((r) => r.userText.includes("and now the second part"));
    assert.ok(asked.length > 0);
    const parentSessions = new Set(
      ws.model.requests.filter((r) => r.userText.includes("follow-me\n")).map((r) => r.sessionId),
    );
    for (const request of asked) {
      assert.ok(parentSessions.has(request.sessionId), "the follow-up ran in the parent's session");
      assert.match(request.userText, /follow-me\n/, "the earlier conversation came with it");
    }
  });

  test("an isolated writer's follow-up starts on its host from its parent's commit", async () => {
    // A repository of its own in the shared folder: the hosts' worktrees come from it.
    const repo = join(ws.dir, "iso-repo");
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
        encoding: "utf8",
      });
    mkdirSync(repo);
    git("init", "-q");
    writeFileSync(join(repo, "notes.txt"), "original\n");
    git("add", "notes.txt");
    git("commit", "-qm", "start");
    const edit = (from: string, to: string) => ({
      type: "patch" as const,
      patch: `*** Begin Patch\n*** Update File: notes.txt\n@@\n-${from}\n+${to}\n*** End Patch`,
    });
    const script = modelScriptLine([
      edit("original", "first"),
      { type: "message", text: "wrote first" },
      edit("first", "second"),
      { type: "message", text: "wrote second" },
    ]);
    const parent = (
      await ws.ok(["spawn", "--cwd", repo, "--isolate", "--write", "notes.txt", `iso parent\n${script}`])
    ).trim();
    assert.equal((await ws.baton(["wait", parent])).code, 0);
    const first = (await ws.json<Result>(["result", parent])).isolation;
    assert.ok(first?.commit, "the parent's change is a commit");
    const child = (await ws.ok(["spawn", "--continue", parent, "now the second edit"])).trim();
    assert.equal((await ws.baton(["wait", child])).code, 0);
    const second = await ws.json<Result>(["result", child]);
    assert.equal(second.answer, "wrote second");
    assert.match(second.placement?.host ?? "", /^host-[abc]$/);
    const branch = second.isolation?.branch ?? "";
    assert.equal(git("show", `${branch}:notes.txt`), "second\n", "its edit applied to its parent's");
    assert.equal(git("rev-parse", `${branch}~1`).trim(), first.commit);
    assert.equal(readFileSync(join(repo, "notes.txt"), "utf8"), "original\n", "the checkout is untouched");
  });

  test("a job from a Baton of another version is refused by the host that takes it, in one line", async () => {
    // Connections of the test's own, each closed at the end (BullMQ leaves a given connection open).
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const listening = connection.duplicate();
    const queue = new Queue(queueNames(key).jobs, { connection });
    const events = new QueueEvents(queueNames(key).jobs, { connection: listening });
    try {
      await events.waitUntilReady();
      const job = await queue.add(
        "worker",
        { v: WIRE_VERSION - 1, workspace: key, worker: "w9999", request: { task: "t", cwd: ws.dir } },
        { jobId: `old-version-${Date.now()}`, attempts: 1 },
      );
      await assert.rejects(
        job.waitUntilFinished(events, 60_000),
        new RegExp(
          `comes from a Baton of another version \\(its jobs are version ${WIRE_VERSION - 1}, this host reads ${WIRE_VERSION}\\): run the same Baton version on the coordinator and its hosts`,
        ),
      );
    } finally {
      await events.close();
      await queue.close();
      listening.disconnect();
      connection.disconnect();
    }
  });

  test("the writer lock stays workspace-wide: two writers of one file run one after the other, on any hosts", async () => {
    writeFileSync(join(ws.dir, "shared.txt"), "start\n");
    const watch = new Watch();
    const writer = (name: string) =>
      `${name}\n${modelScriptLine([
        { type: "shell", command: `sleep 2; echo ${name} >> shared.txt` },
        { type: "message", text: `${name} wrote` },
      ])}`;
    const out = await ws.ok([
      "spawn",
      "--write",
      "shared.txt",
      "--task",
      writer("first-writer"),
      "--task",
      writer("second-writer"),
    ]);
    const [a = "", b = ""] = out.trim().split("\n");
    assert.equal((await ws.baton(["wait", a, b])).code, 0);
    const ended = await watch.until(
      (e) => e.type === "state" && e.worker === a && e.to === "succeeded",
      `${a} ended`,
    );
    const started = await watch.until((e) => e.type === "started" && e.worker === b, `${b} started`);
    watch.stop();
    assert.ok(
      started.seq > ended.seq,
      `${b} started (seq ${started.seq}) before ${a} ended (seq ${ended.seq})`,
    );
    assert.equal(readFileSync(join(ws.dir, "shared.txt"), "utf8"), "start\nfirst-writer\nsecond-writer\n");
  });

  test("a run's token budget stays workspace-wide: reviewers on different hosts are stopped together", async () => {
    // Each reviewer reports 2,000 tokens with its first command, then keeps working: 4,000 > 3,000.
    const spending = `Review what spends\n${modelScriptLine([
      { type: "shell", command: "sleep 60", usage: { input_tokens: 2000, output_tokens: 0 } },
      ...busy(),
    ])}`;
    const review = ["run", "review", "--lens", "security", "--lens", "correctness", "--json"];
    const before = new Set((await ws.json<{ workers: Info[] }>(["ls"])).workers.map((w) => w.id));
    const ran = await ws.baton([...review, "--run-max-tokens", "3000", spending]);
    assert.notEqual(ran.code, 0, "the run fails when its reviewers are stopped");
    const listed = await ws.json<{ workers: (Info & { label?: string })[] }>(["ls"]);
    const reviewers = listed.workers.filter((w) => !before.has(w.id) && /:review-/.test(w.label ?? ""));
    assert.equal(reviewers.length, 2, ran.stderr);
    for (const w of reviewers) {
      const result = JSON.parse((await ws.baton(["result", w.id, "--json"])).stdout) as Result & {
        reason?: { kind: string; scope?: string };
      };
      assert.equal(result.state, "over_budget", JSON.stringify(result.reason));
      assert.equal(result.reason?.scope, "run");
      assert.match(result.placement?.host ?? "", /^host-[abc]$/);
    }
  });

  test("nothing of the caller's environment reaches Redis: the job holds the prompt and settings", async () => {
    const secret = `sk-baton-${randomBytes(12).toString("hex")}`;
    const env = { ...ws.env, OPENAI_API_KEY: secret, MY_TOKEN: secret };
    const spawned = await ws.baton(["spawn", task("env-check", "echo checked", "env checked")], { env });
    assert.equal(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    await client.connect();
    try {
      let seen = "";
      for (const key of await client.keys("*")) {
        const type = await client.type(key);
        const values =
          type === "string"
            ? [await client.get(key)]
            : type === "hash"
              ? Object.entries(await client.hgetall(key)).flat()
              : type === "list"
                ? await client.lrange(key, 0, -1)
                : type === "zset"
                  ? await client.zrange(key, 0, -1)
                  : type === "set"
                    ? await client.smembers(key)
                    : type === "stream"
                      ? (await client.xrange(key, "-", "+")).flatMap(([, fields]) => fields)
                      : [];
        seen += `${key}\n${values.join("\n")}\n`;
      }
      assert.match(seen, /env-check/, "the job's prompt is in Redis (the scan reads jobs)");
      assert.ok(!seen.includes(secret), "a variable of the caller's environment reached Redis");
      assert.ok(!seen.includes(redis.password), "Redis's password reached Redis");
    } finally {
      client.disconnect();
    }
  });

  test("a host killed with SIGKILL: its workers are lost within the bound and finish on the others, no result lost", async (t) => {
    const watch = new Watch();
    // The first run of each waits 12 s; the thread taken over from a lost host answers at once.
    const slow = (name: string) =>
      `${name}\n${modelScriptLine([
        {
          type: "attempts",
          steps: [
            { type: "shell", command: "sleep 12" },
            { type: "message", text: `${name} done` },
          ],
        },
        { type: "message", text: `${name} done` },
      ])}`;
    const ids = await spawnAll(Array.from({ length: 6 }, (_, i) => slow(`kill-${i}`)));
    // Each has its thread (which its host records on the job) before the machine dies.
    const threads = new Map<string, string | undefined>();
    for (const id of ids) {
      const event = await watch.until((e) => e.type === "thread" && e.worker === id, `${id}'s thread`);
      threads.set(id, (event as { threadId?: string }).threadId);
    }
    // And its session file holds its task (codex writes it a moment after it prints the thread): a
    // host that takes the thread over goes on in it only then, else it runs the prompt again.
    const waitedFrom = Date.now();
    for (const [i, id] of ids.entries())
      while (!ws.codexSessionHolds(threads.get(id), `kill-${i}`)) {
        assert.ok(Date.now() - waitedFrom < 30_000, `${id}'s session file never held its task`);
        await sleep(50);
      }
    t.diagnostic(`session files held their tasks ${Date.now() - waitedFrom} ms after the last thread`);
    const listed = await ws.json<{ workers: Info[] }>(["ls"]);
    const byHost = new Map<string, string[]>();
    // The victims: the workers still running on the host that runs the most (on a loaded machine one
    // may have ended already; it is not lost, and its result says so).
    for (const w of listed.workers.filter((w) => ids.includes(w.id) && w.state === "running")) {
      byHost.set(w.host ?? "-", [...(byHost.get(w.host ?? "-") ?? []), w.id]);
    }
    const [victimName, victims] = [...byHost].sort((a, b) => b[1].length - a[1].length)[0] ?? ["", []];
    const victim = hosts.find((h) => h.name === victimName);
    assert.ok(victim && victims.length > 0, JSON.stringify([...byHost]));
    const killedAt = Date.now();
    await victim.kill();
    for (const id of victims) {
      const lost = await watch
        .until((e) => e.type === "state" && e.worker === id && e.to === "lost", `${id} lost`)
        .catch((error: Error) => {
          // What every host said (seen once: a victim never shown lost), for whoever looks next.
          const said = hosts.map((h) => `${h.name}:\n${h.lines.slice(-40).join("\n")}`).join("\n");
          throw new Error(`${error.message}; victims ${victims.join(" ")} on ${victimName}\n${said}`);
        });
      const after = Date.parse(lost.at) - killedAt;
      // The stated bound: twice the lock (lock expiry, then BullMQ's stalled check) and a second for the event.
      assert.ok(after <= 2 * LOCK_MS + 1_000 + 1_500, `${id} shown lost ${after} ms after the kill`);
      t.diagnostic(`${id} shown lost ${after} ms after its host was killed (lock ${LOCK_MS} ms)`);
    }
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const results = await ws.json<Result[]>(["result", ...ids]);
    for (const [i, result] of results.entries()) {
      assert.equal(result.state, "succeeded");
      assert.equal(result.answer, `kill-${i} done`);
      if (victims.includes(result.id)) {
        assert.notEqual(result.placement?.host, victimName);
        assert.deepEqual(result.placement?.lostHosts, [victimName]);
        // The hosts share this machine's CODEX_HOME: the thread's session files are reachable, so the
        // thread goes on (its next model turn), where a host without them would run the prompt again.
        const takeovers = hosts.flatMap((h) => h.lines.filter((line) => line.includes("taken over")));
        assert.equal(result.placement?.resumed, "thread", takeovers.join("\n"));
        const before = watch.events.find((e) => e.type === "thread" && e.worker === result.id);
        assert.equal(result.threadId, (before as { threadId?: string } | undefined)?.threadId);
        assert.equal(result.resumes, 1);
      } else assert.deepEqual(result.placement?.lostHosts, []);
    }
    watch.stop();
    // The killed machine comes back: a host started again in its folder takes jobs again.
    hosts.splice(hosts.indexOf(victim), 1, await victim.restart(ws, redis, key, LOCK_MS));
  });

  test("the coordinator killed and restarted: nothing lost, nothing run twice", async () => {
    const watch = new Watch();
    const ids = await spawnAll(
      Array.from({ length: 6 }, (_, i) => task(`coord-${i}`, "sleep 8", `coord-${i} done`)),
    );
    for (const id of ids) await watch.until((e) => e.type === "started" && e.worker === id, `${id} started`);
    watch.stop();
    // Killed while they run: a new coordinator, started by the next command, adopts them.
    const pid = killCoordinator();
    const listed = await lsAfterKill();
    assert.notEqual(ws.supervisorPid(), pid);
    for (const w of listed.workers.filter((w) => ids.includes(w.id)))
      assert.ok(w.state === "running" || w.state === "succeeded", `${w.id} ${w.state}`);
    // Killed again, and this time every job ends before a coordinator runs: their results and
    // transcripts wait in Redis for the next one.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueNames(key).jobs, { connection });
    const listening = connection.duplicate();
    const jobs = new QueueEvents(queueNames(key).jobs, { connection: listening });
    try {
      await jobs.waitUntilReady();
      const left = new Set(ids.map((id) => `${id}-d0`));
      const ended = new Promise<void>((resolve, reject) => {
        const done = (jobId: string) => {
          left.delete(jobId);
          if (left.size === 0) resolve();
        };
        jobs.on("completed", ({ jobId }) => done(jobId));
        jobs.on("failed", ({ jobId, failedReason }) => {
          if (left.has(jobId)) reject(new Error(`job ${jobId} failed on its host: ${failedReason}`));
        });
        for (const job of [...left])
          void queue.getJobState(job).then((state) => state === "completed" && done(job));
      });
      killCoordinator();
      await ended;
    } finally {
      await jobs.close();
      await queue.close();
      listening.disconnect();
      connection.disconnect();
    }
    await lsAfterKill();
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const results = await ws.json<Result[]>(["result", ...ids]);
    for (const [i, result] of results.entries()) {
      assert.equal(result.state, "succeeded");
      assert.equal(result.answer, `coord-${i} done`);
      // One codex session each: the model was asked by exactly one run of each worker.
      const sessions = new Set(
        ws.model.requests.filter((r) => r.userText.includes(`coord-${i}\n`)).map((r) => r.sessionId),
      );
      assert.equal(sessions.size, 1, `coord-${i} ran ${sessions.size} times`);
    }
    // Every worker's transcript is whole: what its host sent while no coordinator ran, and after.
    for (const [i, id] of ids.entries())
      assert.match(await ws.ok(["logs", "--raw", id]), new RegExp(`coord-${i} done`));
  });

  test("send types into the worker's terminal on the host that holds it", async () => {
    // A program that asks on its terminal and waits for a line: only the host running it can type there.
    const interactive = join(FIXTURES, "interactive-agent.mjs");
    const spawned = await ws.ok(["spawn", "--cmd", interactive, "talk to me across machines"]);
    const worker = spawned.trim();
    const watch = new Watch([worker]);
    await watch
      .until((e) => e.type === "started" && e.worker === worker, `${worker} started`, 20_000)
      .catch(async (error: Error) => {
        const shown = await ws.baton(["result", worker, "--json"]);
        throw new Error(
          `${error.message}: ${shown.stdout}${shown.stderr}\n${hosts.flatMap((h) => h.lines.slice(-5)).join("\n")}`,
        );
      });
    await pollFor(worker, /ready> /);
    await ws.ok(["send", worker, "hello from the coordinator"]);
    await pollFor(worker, /you said hello from the coordinator/);
    await ws.ok(["send", worker, "quit"]);
    await watch.until(
      (e) => e.type === "state" && e.worker === worker && e.to === "succeeded",
      `${worker} ends`,
    );
    watch.stop();
    const result = await ws.json<Result>(["result", worker]);
    assert.equal(result.state, "succeeded");
    assert.match(result.placement?.host ?? "", /^host-[abc]$/);
    assert.match(await ws.ok(["logs", "--raw", worker]), /you said hello from the coordinator/);
  });

  test("baton run review across hosts: each lens on some host, findings merged on the coordinator", async () => {
    const finding = (lens: string) => ({
      title: "User input reaches eval",
      severity: "high",
      location: "calc.js:3",
      evidence: `${lens} saw it at calc.js:3`,
      recommendation: "parse the input instead",
      sources: [],
    });
    const reviewer = (lens: string) => ({
      type: "message" as const,
      text: JSON.stringify({ summary: lens, findings: [finding(lens)] }),
    });
    // Each lens's worker gets the same task: the script answers by attempt, one per lens.
    const script = modelScriptLine([{ type: "attempts", steps: [reviewer("one"), reviewer("two")] }]);
    const ran = await ws.baton([
      "run",
      "review",
      "--lens",
      "security",
      "--lens",
      "correctness",
      "--json",
      `Review calc.js\n${script}`,
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const out = JSON.parse(ran.stdout) as {
      run: string;
      result: { findings: { title: string; lenses: string[]; evidence: unknown[] }[] };
    };
    assert.equal(out.result.findings.length, 1, JSON.stringify(out.result.findings));
    assert.deepEqual(out.result.findings[0]?.lenses, ["correctness", "security"]);
    assert.equal(out.result.findings[0]?.evidence.length, 2);
    const listed = await ws.json<{ workers: (Info & { label?: string })[] }>(["ls"]);
    const reviewers = listed.workers.filter((w) => (w.label ?? "").startsWith(`${out.run}:review-`));
    assert.equal(reviewers.length, 2, JSON.stringify(listed.workers.map((w) => w.label)));
    for (const w of reviewers) assert.match(w.host ?? "", /^host-[abc]$/, `${w.id} ran on ${w.host}`);
  });

  test("stop reaches the host holding the worker; watch follows it there to its end", async () => {
    const [id = ""] = await spawnAll([
      `stop-me\n${modelScriptLine(Array.from({ length: 12 }, () => ({ type: "shell" as const, command: "sleep 600" })))}`,
    ]);
    const watch = new Watch([id]);
    await watch.until((e) => e.type === "started" && e.worker === id, `${id} started`);
    const info = (await ws.json<{ workers: Info[] }>(["ls"])).workers.find((w) => w.id === id);
    const holder = hosts.find((h) => h.name === info?.host);
    assert.ok(holder, `${id} runs on ${info?.host}`);
    await watch
      .until(() => holder.agents().length > 0, `${id}'s agent on ${holder.name}`, 30_000)
      .catch(() => {});
    assert.ok(holder.agents().length > 0, `no agent process of ${id} on ${holder.name}`);
    const stopping = await ws.baton(["stop", id, "--grace", "1"]);
    assert.equal(stopping.code, 0, `${stopping.stderr}\n${holder.lines.slice(-8).join("\n")}`);
    const stopped = stopping.stdout;
    assert.match(stopped, new RegExp(`stopped ${id}`));
    // `result` exits 1 for a worker that did not succeed; its JSON is the same.
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as Result | undefined;
    assert.equal(result?.state, "canceled");
    assert.equal(result?.placement?.host, holder.name);
    await watch.until((e) => e.type === "state" && e.worker === id && e.to === "canceled", `${id} canceled`);
    assert.deepEqual(holder.agents(), [], "the host left an agent process running");
    watch.stop();
  });
});
