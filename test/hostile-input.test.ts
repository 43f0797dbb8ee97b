import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, type RunResult, sleep, Workspace } from "./support/harness.ts";

// A corpus of hostile and broken input, one test per case: the command line, workflow files, context
// packs, the supervisor's socket, and CLI calls racing on one worker. Each case must end in a one-line
// error (or be handled safely); after each group the same supervisor still answers, and nothing was
// written outside the workspace's .baton/.

const COUNT = join(FIXTURES, "count-agent.sh");
const IDLE = join(FIXTURES, "idle-agent.sh");
const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");

let ws: Workspace;
/** The project the CLI runs in, four folders down, so that `../../../../x` still lands in the workspace. */
let cwd: string;

/** Runs the CLI in the project folder. */
const baton = (args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}) =>
  ws.baton(args, { cwd, ...options });

/** One line on stderr, starting `baton: `, matching `pattern`; no stack trace; a non-zero exit. */
function assertOneLineError(result: RunResult, pattern: RegExp, code?: number): void {
  assert.notEqual(result.code, 0, `exits non-zero (stdout: ${result.stdout.slice(0, 200)})`);
  if (code !== undefined) assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr.slice(0, 500))}`);
  assert.match(lines[0]!, /^baton: /);
  assert.doesNotMatch(result.stderr, /\n\s+at |unexpected error/, "no stack trace, no unexpected error");
  assert.match(lines[0]!, pattern);
}

/** A case of the corpus: a name and what it runs and asserts. */
interface Case {
  readonly name: string;
  readonly run: () => Promise<void>;
}

/** A CLI call that must fail with a one-line error matching `error`. */
const refused = (
  name: string,
  args: readonly string[],
  error: RegExp,
  options: { input?: string | Buffer; code?: number; env?: () => NodeJS.ProcessEnv } = {},
): Case => ({
  name,
  run: async () => {
    const result = await baton(args, {
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.env ? { env: options.env() } : {}),
    });
    assertOneLineError(result, error, options.code);
  },
});

// ---------------------------------------------------------------------------------------------------
// Input files, all written before any group runs, so that the tree snapshot holds them.

const ALIAS_BOMB = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
  "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
].join("\n");
const INVALID_UTF8 = Buffer.concat([
  Buffer.from("steps:\n  - id: a\n    task: caf"),
  Buffer.from([0xe9, 0xff]),
  Buffer.from("\n"),
]);
const ONE_STEP = "steps:\n  - id: a\n    task: say hi\n";

const WORKFLOWS: Record<string, string | Buffer> = {
  "unclosed.yaml": "steps: [ { id: a, task: x }\n",
  "tabs.yaml": "steps:\n\t- id: a\n\t  task: x\n",
  "dup-key.yaml": "steps:\n  - id: a\n    task: one\n    task: two\n",
  "empty.yaml": "",
  "top-list.yaml": "- id: a\n  task: x\n",
  "unknown-top.yaml": `${ONE_STEP}stepz: []\n`,
  "unknown-step-key.yaml": "steps:\n  - id: a\n    tsk: x\n",
  "steps-string.yaml": "steps: do everything\n",
  "structured-yes.yaml": "steps:\n  - id: a\n    task: x\n    structured: yes please\n",
  "id-traversal.yaml": "steps:\n  - id: ../../x\n    task: x\n",
  "unknown-dep.yaml": "steps:\n  - id: a\n    task: x\n    depends_on: [ghost]\n",
  "cycle.yaml":
    "steps:\n  - id: a\n    task: x\n    depends_on: b\n  - id: b\n    task: y\n    depends_on: a\n",
  "write-traversal.yaml":
    "steps:\n  - id: a\n    role: implementer\n    task: x\n    write: ../../../outside\n",
  "write-absolute.yaml":
    "steps:\n  - id: a\n    role: implementer\n    task: x\n    write: [src, /tmp/elsewhere]\n",
  "cwd-missing.yaml": `cwd: ../../../../nope\n${ONE_STEP}`,
  "context-traversal.yaml": `context: ../../../../../../../../../etc/passwd\n${ONE_STEP}`,
  "context-device.yaml": `context: zero-pack.yaml\n${ONE_STEP}`,
  "alias-bomb.yaml": `${ALIAS_BOMB}\n${ONE_STEP}`,
  "deep.yaml": `steps: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`,
  "nul-raw.yaml": "steps:\n  - id: a\n    task: hi\0there\n",
  "nul-escape.yaml": 'steps:\n  - id: a\n    task: "hi\\0there"\n',
  "invalid-utf8.yaml": INVALID_UTF8,
  "huge.yaml": `${ONE_STEP}# ${"x".repeat(2 * 1024 * 1024)}\n`,
  "fan-out.yaml": `steps:\n  - id: a\n    task: do {{item}}\n    for_each: [${Array.from({ length: 5000 }, (_, i) => `i${i}`).join(", ")}]\n`,
  "result-unknown.yaml": `${ONE_STEP}result: ghost\n`,
  "ok.json": JSON.stringify({ steps: [{ id: "a", task: "x" }] }),
};

const PACKS: Record<string, string | Buffer> = {
  "unclosed-pack.yaml": "goal: [x\n",
  "unknown-field.yaml": "gaol: ship it\n",
  "goal-list.yaml": "goal: [1, 2]\n",
  "number-items.yaml": "constraints: [1, 2]\n",
  "top-list-pack.yaml": "- goal\n- ship it\n",
  "empty-pack.yaml": "",
  "pack.json": '{"goal": "ship it"}',
  "unknown-section.md": "## Goal\nship it\n## Gaols\nx\n",
  "twice.md": "## Goal\nship it\n## Goal\nagain\n",
  "pointer-traversal.yaml": "pointers: ['../../nope/x']\n",
  "nul-pack.md": "## Goal\nship\0it\n",
  "nul-escape-pack.yaml": 'goal: "ship\\0it"\n',
  "invalid-utf8-pack.md": Buffer.concat([Buffer.from("## Goal\nship "), Buffer.from([0xc3, 0x28])]),
  "huge-pack.md": `## Goal\n${"x".repeat(2 * 1024 * 1024)}\n`,
  "bomb-pack.yaml": `${ALIAS_BOMB}\n`,
};

/** Every entry under `dir` except the paths in `skip`: path -> kind, size and modification time. */
function snapshot(dir: string, skip: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (skip.includes(path)) continue;
      const info = lstatSync(path);
      // A folder by its entries (walked below), not its time: a codex writer's folder gets the empty
      // mount points Baton makes for its agent and removes when it ends, which leaves nothing there.
      found.set(relative(dir, path), info.isDirectory() ? "dir" : `${info.size} ${info.mtimeMs}`);
      if (info.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return found;
}

// ---------------------------------------------------------------------------------------------------
// The supervisor's socket, spoken to directly.

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { code: string; message: string };
}

function socketPath(): string {
  return (JSON.parse(readFileSync(join(ws.home, "supervisor.json"), "utf8")) as { socket: string }).socket;
}

/**
 * Sends `chunks` on a fresh connection, after a hello with this process's pid (or the pid `hello`
 * gives; none if false). Collects replies until `until` replies other than the hello's have come, or,
 * with "close", until the supervisor closes the connection; at most 10 seconds.
 */
function exchange(
  chunks: readonly (string | Buffer)[],
  options: { hello?: boolean | number; until?: number | "close" } = {},
): Promise<{ replies: Reply[]; hello: Reply | undefined; closed: boolean }> {
  const until = options.until ?? 1;
  const sendsHello = options.hello !== false;
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath());
    const replies: Reply[] = [];
    let buffer = "";
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        replies: sendsHello ? replies.filter((reply) => reply.id !== 0) : replies,
        hello: sendsHello ? replies.find((reply) => reply.id === 0) : undefined,
        closed,
      });
    };
    const timer = setTimeout(done, 10_000);
    socket.on("error", () => {}); // a refused client's writes may meet a closed socket: EPIPE
    socket.on("connect", () => {
      if (sendsHello) {
        const pid = typeof options.hello === "number" ? options.hello : process.pid;
        socket.write(line({ id: 0, method: "hello", params: { pid } }));
      }
      for (const chunk of chunks) {
        socket.write(typeof chunk === "string" ? chunk.replaceAll(PROJECT, cwd) : chunk);
      }
    });
    socket.on("data", (data) => {
      buffer += data.toString("utf8");
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        replies.push(JSON.parse(buffer.slice(0, i)) as Reply);
        buffer = buffer.slice(i + 1);
      }
      const counted = sendsHello ? replies.filter((reply) => reply.id !== 0).length : replies.length;
      if (until !== "close" && counted >= until) done();
    });
    socket.on("close", () => {
      closed = true;
      done();
    });
  });
}

const line = (value: unknown) => `${JSON.stringify(value)}\n`;

/** One request on the socket that must be answered with an error of `code` matching `message`. */
const refusedOnSocket = (
  name: string,
  chunks: readonly (string | Buffer)[],
  code: string,
  message: RegExp,
): Case => ({
  name,
  run: async () => {
    const { replies } = await exchange(chunks);
    const reply = replies[0];
    assert.ok(reply, "a reply came");
    assert.equal(reply.ok, false, JSON.stringify(reply));
    assert.equal(reply.error?.code, code, reply.error?.message);
    assert.match(reply.error?.message ?? "", message);
    assert.equal(reply.error?.message.includes("\n"), false, "one line");
  },
});

/** Stands for the project folder in a request written before the folder exists. */
const PROJECT = "<project>";
const spawnRequest = (params: Record<string, unknown>) =>
  line({ id: 1, method: "spawn", params: { task: "x", cwd: PROJECT, env: {}, bin: COUNT, ...params } });

// ---------------------------------------------------------------------------------------------------

const GROUPS: { readonly name: string; readonly cases: readonly Case[] }[] = [
  {
    name: "the command line",
    cases: [
      {
        name: "a label with path traversal is only a label",
        run: async () => {
          const result = await baton(["spawn", "--label", "../../x", "--codex-bin", COUNT, "hi"]);
          assert.equal(result.code, 0, result.stderr);
          const id = result.stdout.trim();
          await baton(["wait", id]);
          const listed = JSON.parse((await baton(["ls", "--json"])).stdout) as {
            workers: { id: string; label: string }[];
          };
          assert.equal(listed.workers.find((w) => w.id === id)?.label, "../../x");
          assert.ok(!existsSync(join(cwd, "../../x")) && !existsSync(join(ws.home, "workers", "../../x")));
        },
      },
      refused(
        "a label with a newline",
        ["spawn", "--label", "a\nb", "x"],
        /label contains control characters/,
        { code: 2 },
      ),
      refused(
        "a 300-character label",
        ["spawn", "--label", "x".repeat(300), "x"],
        /label is longer than 200/,
        { code: 2 },
      ),
      refused(
        "result of ../../etc/passwd",
        ["result", "../../etc/passwd"],
        /not a worker id|worker ids look like/,
        { code: 2 },
      ),
      refused("logs of ../w1", ["logs", "../w1"], /not a worker id|no worker/),
      refused("poll of w1/../../x", ["poll", "w1/../../x"], /worker ids look like/, { code: 2 }),
      refused("stop of w0", ["stop", "w0"], /worker ids look like/, { code: 2 }),
      refused("send to W1", ["send", "W1", "hello"], /worker ids look like/, { code: 2 }),
      refused("wait for an id past the range", ["wait", "w99999999999"], /worker ids look like/, { code: 2 }),
      refused("result of an empty id", ["result", ""], /worker ids look like/, { code: 2 }),
      refused(
        "a --cwd that climbs out to nothing",
        ["spawn", "--cwd", "../../../../../../nope", "x"],
        /is not a folder/,
      ),
      refused(
        "a --cwd that is a file",
        ["spawn", "--cwd", "/etc/passwd", "x"],
        /--cwd \/etc\/passwd is not a folder/,
      ),
      {
        name: "a --write path outside the project is the worker's, and Baton leaves nothing there",
        run: async () => {
          const folder = join(cwd, "../..");
          const entries = readdirSync(folder).sort();
          const result = await baton(["spawn", "--write", "../../outside", "--codex-bin", COUNT, "hi"]);
          assert.equal(result.code, 0, result.stderr);
          assert.equal((await baton(["wait", result.stdout.trim()])).code, 0);
          assert.ok(!existsSync(join(cwd, "../../outside")));
          assert.deepEqual(readdirSync(folder).sort(), entries);
        },
      },
      refused(
        "--max-parallel 0",
        ["spawn", "--max-parallel", "0", "x"],
        /--max-parallel must be a whole number of 1 or more/,
        { code: 2 },
      ),
      refused(
        "--max-parallel -1",
        ["spawn", "--max-parallel", "-1", "x"],
        /--max-parallel must be a whole number/,
        { code: 2 },
      ),
      refused(
        "--max-parallel 1e9",
        ["spawn", "--max-parallel", "1e9", "x"],
        /--max-parallel must be at most 1024/,
        { code: 2 },
      ),
      refused(
        "--max-parallel 0x10",
        ["spawn", "--max-parallel", "0x10", "x"],
        /--max-parallel must be a whole number/,
        { code: 2 },
      ),
      refused(
        "--max-parallel 2.5",
        ["spawn", "--max-parallel", "2.5", "x"],
        /--max-parallel must be a whole number/,
        { code: 2 },
      ),
      refused(
        "--max-parallel empty",
        ["spawn", "--max-parallel", "", "x"],
        /--max-parallel must be a whole number/,
        { code: 2 },
      ),
      refused(
        "config --max-parallel 100000",
        ["config", "--max-parallel", "100000"],
        /--max-parallel must be at most 1024/,
        { code: 2 },
      ),
      refused("--timeout -5", ["spawn", "--timeout", "-5", "x"], /--timeout must be a positive number/, {
        code: 2,
      }),
      refused("--timeout 0", ["spawn", "--timeout", "0", "x"], /--timeout must be a positive number/, {
        code: 2,
      }),
      refused("--timeout 1e12", ["spawn", "--timeout", "1e12", "x"], /--timeout must be at most 604800/, {
        code: 2,
      }),
      refused("--timeout NaN", ["spawn", "--timeout", "NaN", "x"], /--timeout must be a positive number/, {
        code: 2,
      }),
      refused(
        "--timeout Infinity",
        ["spawn", "--timeout", "Infinity", "x"],
        /--timeout must be a positive number/,
        { code: 2 },
      ),
      refused("wait --timeout 0", ["wait", "--timeout", "0"], /--timeout must be a positive number/, {
        code: 2,
      }),
      refused(
        "stop --grace -1",
        ["stop", "--all", "--grace", "-1"],
        /--grace must be a number of 0 or more/,
        { code: 2 },
      ),
      refused("stop --grace 1e9", ["stop", "--all", "--grace", "1e9"], /--grace must be at most 3600/, {
        code: 2,
      }),
      refused("poll --wait 1e12", ["poll", "w1", "--wait", "1e12"], /--wait must be at most 3600000/, {
        code: 2,
      }),
      refused(
        "poll --max-bytes 0",
        ["poll", "w1", "--max-bytes", "0"],
        /--max-bytes must be a whole number of 1 or more/,
        { code: 2 },
      ),
      refused("a prompt with a NUL byte", ["spawn", "-"], /spawn: task contains a NUL byte: remove it/, {
        input: "do\0this",
        code: 2,
      }),
      refused("a prompt that is not UTF-8", ["spawn", "-"], /prompt on stdin is not valid UTF-8/, {
        input: Buffer.from([0x68, 0x69, 0xff, 0xfe]),
        code: 2,
      }),
      {
        name: "a 10 MB prompt reaches the agent whole",
        run: async () => {
          const prompt = `${"0123456789abcdef".repeat(10 * 65536)}\nend`;
          const result = await baton(["spawn", "--codex-bin", COUNT, "-"], { input: prompt });
          assert.equal(result.code, 0, result.stderr);
          const id = result.stdout.trim();
          assert.equal((await baton(["wait", id])).code, 0);
          const answer = (await baton(["result", id])).stdout;
          const bytes = Number(/prompt bytes: (\d+)/.exec(answer)?.[1]);
          assert.ok(bytes > prompt.length, `the agent read ${bytes} bytes`);
        },
      },
      refused("a 70 MB prompt", ["spawn", "-"], /prompt on stdin is 70.0 MiB, more than the 16.0 MiB/, {
        input: "y".repeat(70 * 1024 * 1024),
        code: 2,
      }),
      refused("--home that is a file", ["--home", "/etc/passwd", "ls"], /run store \/etc\/passwd/),
      refused(
        "--home under /proc",
        ["--home", "/proc/1/nope/.baton", "ls"],
        /run store \/proc\/1\/nope\/.baton/,
      ),
      refused(
        "--home that is a symlink",
        ["--home", "linked-home", "ls"],
        /run store .*linked-home is not a plain folder/,
      ),
      {
        name: "a symlinked .baton is refused and nothing is made where it points",
        run: async () => {
          const project = join(ws.dir, "symlinked");
          const env = { ...ws.env };
          delete env.BATON_HOME;
          for (const args of [["ls"], ["spawn", "--codex-bin", COUNT, "x"], ["plan", "set", "a step"]]) {
            const result = await ws.baton(args, { cwd: project, env });
            assertOneLineError(result, /(run store|plan folder) .*symlinked\/.baton is not a plain folder/);
          }
          assert.deepEqual(readdirSync(join(ws.dir, "symlink-target")), []);
        },
      },
      refused(
        "a template that is a device",
        ["spawn", "--role", "reviewer", "--template", "reviewer=/dev/zero", "x"],
        /reviewer template \/dev\/zero is not a text file/,
        { code: 2 },
      ),
      refused(
        "a template for role ../../x",
        ["spawn", "--template", "../../x=t.md", "x"],
        /--template takes ROLE=FILE/,
        { code: 2 },
      ),
      refused("an unknown role", ["spawn", "--role", "root", "x"], /argument 'root' is invalid/, { code: 2 }),
      refused("an unknown backend", ["spawn", "--backend", "evil", "x"], /argument 'evil' is invalid/, {
        code: 2,
      }),
      refused("an empty pattern task", ["run", "review", "  "], /the task is empty/, { code: 2 }),
      refused("plan update with malformed JSON", ["plan", "update"], /stdin is not valid JSON/, {
        input: '{"plan": [',
        code: 2,
      }),
      refused("plan update with wrong types", ["plan", "update"], /plan/, {
        input: '{"plan": "all of it"}',
        code: 2,
      }),
      refused("plan update with an unknown field", ["plan", "update"], /unknown|unrecognized|plans/i, {
        input: '{"plans": []}',
        code: 2,
      }),
    ],
  },
  {
    name: "workflow files",
    cases: [
      refused("unclosed YAML", ["run", "wf/unclosed.yaml"], /wf\/unclosed.yaml:\d+: invalid YAML/, {
        code: 2,
      }),
      refused("tab indentation", ["run", "wf/tabs.yaml"], /wf\/tabs.yaml:2: invalid YAML: Tabs/, { code: 2 }),
      refused(
        "a duplicated key",
        ["run", "wf/dup-key.yaml"],
        /wf\/dup-key.yaml:\d+: invalid YAML: Map keys must be unique/,
        { code: 2 },
      ),
      refused("an empty file", ["run", "wf/empty.yaml"], /the workflow file is empty/, { code: 2 }),
      refused("a list at the top", ["run", "wf/top-list.yaml"], /expected a mapping with steps: at the top/, {
        code: 2,
      }),
      refused("an unknown top-level key", ["run", "wf/unknown-top.yaml"], /:4: unknown key "stepz"/, {
        code: 2,
      }),
      refused(
        "an unknown step key",
        ["run", "wf/unknown-step-key.yaml"],
        /:3: steps\[0\]: unknown key "tsk": did you mean "task"/,
        { code: 2 },
      ),
      refused(
        "steps as a string",
        ["run", "wf/steps-string.yaml"],
        /:1: steps: expected a list, got "do everything"/,
        { code: 2 },
      ),
      refused(
        "structured as text",
        ["run", "wf/structured-yes.yaml"],
        /steps\[0\].structured: expected true or false/,
        { code: 2 },
      ),
      refused(
        "a step id with path traversal",
        ["run", "wf/id-traversal.yaml"],
        /steps\[0\].id: must be lowercase letters/,
        { code: 2 },
      ),
      refused("a dependency on an unknown step", ["run", "wf/unknown-dep.yaml"], /ghost/, { code: 2 }),
      refused("a dependency cycle", ["run", "wf/cycle.yaml"], /cycle/i, { code: 2 }),
      refused(
        "a write path that climbs out",
        ["run", "wf/write-traversal.yaml"],
        /:5: steps\[0\].write: "..\/..\/..\/outside" is outside the workers' cwd/,
        { code: 2 },
      ),
      refused(
        "an absolute write path elsewhere",
        ["run", "wf/write-absolute.yaml"],
        /steps\[0\].write: "\/tmp\/elsewhere" is outside the workers' cwd/,
        { code: 2 },
      ),
      refused("a cwd that does not exist", ["run", "wf/cwd-missing.yaml"], /:1: cwd: .* is not a folder/, {
        code: 2,
      }),
      refused("a context file outside, not a pack", ["run", "wf/context-traversal.yaml"], /etc\/passwd/, {
        code: 2,
      }),
      refused(
        "a context file that is a device",
        ["run", "wf/context-device.yaml"],
        /the context pack is not a regular file/,
        { code: 2 },
      ),
      refused(
        "a YAML alias bomb",
        ["run", "wf/alias-bomb.yaml"],
        /wf\/alias-bomb.yaml: invalid YAML: its aliases \(\*name\) expand too far/,
        { code: 2 },
      ),
      refused("50,000 levels of nesting", ["run", "wf/deep.yaml"], /wf\/deep.yaml:1: invalid YAML/, {
        code: 2,
      }),
      refused(
        "a NUL byte",
        ["run", "wf/nul-raw.yaml"],
        /wf\/nul-raw.yaml:3: the workflow file contains a NUL byte/,
        { code: 2 },
      ),
      refused(
        "a NUL escape in a task",
        ["run", "wf/nul-escape.yaml"],
        /:3: steps\[0\].task: contains a NUL byte/,
        { code: 2 },
      ),
      refused(
        "invalid UTF-8",
        ["run", "wf/invalid-utf8.yaml"],
        /wf\/invalid-utf8.yaml:3: the workflow file is not valid UTF-8/,
        { code: 2 },
      ),
      refused("a 2 MB file", ["run", "wf/huge.yaml"], /the workflow file is 2.0 MiB, more than 1.0 MiB/, {
        code: 2,
      }),
      refused(
        "a fan-out to 5,000 workers",
        ["run", "wf/fan-out.yaml"],
        /steps\[0\].for_each: lists more than 100 items/,
        { code: 2 },
      ),
      refused("an unknown result step", ["run", "wf/result-unknown.yaml"], /result: unknown step "ghost"/, {
        code: 2,
      }),
      refused(
        "a folder named like a workflow",
        ["run", "wf/folder.yaml"],
        /the workflow file is not a regular file/,
        { code: 2 },
      ),
      refused("a file that is not there", ["run", "../../nope.yaml"], /the workflow file does not exist/, {
        code: 2,
      }),
      refused("a JSON file", ["run", "wf/ok.json"], /is neither a pattern nor a workflow file/, { code: 2 }),
      refused(
        "a FIFO named like a workflow",
        ["run", "wf/fifo.yaml"],
        /the workflow file is not a regular file/,
        { code: 2 },
      ),
    ],
  },
  {
    name: "context packs",
    cases: [
      ...(
        [
          ["unclosed YAML", "unclosed-pack.yaml", /:\d+: invalid YAML/],
          ["an unknown field", "unknown-field.yaml", /:1: unknown field "gaol": did you mean "goal"/],
          ["a goal that is a list", "goal-list.yaml", /:1: "goal" must be a string/],
          ["numbers for constraints", "number-items.yaml", /:1: item 1 of "constraints" must be a string/],
          ["a list at the top", "top-list-pack.yaml", /expected fields such as "goal:"/],
          ["an empty pack", "empty-pack.yaml", /the context pack is empty/],
          ["a JSON pack", "pack.json", /a context pack must be a .yaml, .yml or .md file/],
          [
            "an unknown Markdown section",
            "unknown-section.md",
            /:3: unknown section "## Gaols": expected one of "## Goal"/,
          ],
          ["a section twice", "twice.md", /:3: "## Goal" appears twice/],
          [
            "a pointer that climbs out to nothing",
            "pointer-traversal.yaml",
            /pointer "..\/..\/nope\/x" does not exist/,
          ],
          ["a NUL byte", "nul-pack.md", /nul-pack.md:2: the context pack contains a NUL byte/],
          ["a NUL escape", "nul-escape-pack.yaml", /"goal" contains a NUL byte/],
          ["invalid UTF-8", "invalid-utf8-pack.md", /:2: the context pack is not valid UTF-8/],
          ["a 2 MB pack", "huge-pack.md", /the context pack is 2.0 MiB, more than 1.0 MiB/],
          ["a YAML alias bomb", "bomb-pack.yaml", /invalid YAML: its aliases \(\*name\) expand too far/],
          ["a device", "zero-pack.yaml", /the context pack is not a regular file/],
          ["a FIFO", "fifo-pack.yaml", /the context pack is not a regular file/],
          ["a folder", "folder-pack.yaml", /the context pack is not a regular file/],
          ["a missing file", "../../../nope.yaml", /the context pack does not exist/],
        ] as const
      ).map(([name, file, error]) =>
        refused(
          name,
          ["spawn", "--codex-bin", COUNT, "--context", file.startsWith(".") ? file : `wf/${file}`, "x"],
          error,
          {
            code: 2,
          },
        ),
      ),
    ],
  },
  {
    name: "the socket protocol",
    cases: [
      refusedOnSocket("a line that is not JSON", ["hello there\n"], "usage", /a request is not valid JSON/),
      refusedOnSocket("a JSON array", ["[1, 2]\n"], "usage", /request: /),
      refusedOnSocket("JSON null", ["null\n"], "usage", /request: /),
      refusedOnSocket("an id that is text", [line({ id: "one", method: "list" })], "usage", /id: /),
      refusedOnSocket("an id that is a fraction", [line({ id: 1.5, method: "list" })], "usage", /id: /),
      refusedOnSocket("no method", [line({ id: 1 })], "usage", /method: /),
      refusedOnSocket(
        "an unknown method",
        [line({ id: 1, method: "format_disk" })],
        "usage",
        /unknown method "format_disk"/,
      ),
      refusedOnSocket(
        "method __proto__",
        [line({ id: 1, method: "__proto__" })],
        "usage",
        /unknown method "__proto__"/,
      ),
      refusedOnSocket(
        "method constructor",
        [line({ id: 1, method: "constructor" })],
        "usage",
        /unknown method "constructor"/,
      ),
      refusedOnSocket("a task that is a number", [spawnRequest({ task: 42 })], "usage", /^task: /),
      refusedOnSocket(
        "an unknown spawn field",
        [spawnRequest({ sudo: true })],
        "usage",
        /spawn: unknown field "sudo"/,
      ),
      refusedOnSocket("an env that is a list", [spawnRequest({ env: ["A=1"] })], "usage", /^env: /),
      refusedOnSocket(
        "a relative cwd",
        [spawnRequest({ cwd: "." })],
        "usage",
        /^cwd: must be an absolute path/,
      ),
      refusedOnSocket(
        "a cwd with a NUL byte",
        [spawnRequest({ cwd: `${PROJECT}\0/x` })],
        "usage",
        /spawn: cwd contains a NUL byte/,
      ),
      refusedOnSocket(
        "a write path with a NUL byte",
        [spawnRequest({ write: ["a\0b"] })],
        "usage",
        /spawn: write.0 contains a NUL byte/,
      ),
      refusedOnSocket(
        "an env name with a NUL byte",
        [spawnRequest({ env: { "A\0B": "1" } })],
        "usage",
        /spawn: env.A\0B contains a NUL byte/,
      ),
      refusedOnSocket(
        "a worker's own marker in the env",
        [spawnRequest({ env: { BATON_WORKER_ID: "w1" } })],
        "nested",
        /workers cannot spawn workers/,
      ),
      refusedOnSocket(
        "a negative maxBytes",
        [line({ id: 1, method: "poll", params: { id: "w1", maxBytes: -1 } })],
        "usage",
        /maxBytes: /,
      ),
      refusedOnSocket(
        "stop of ../../x",
        [line({ id: 1, method: "stop", params: { ids: ["../../x"] } })],
        "usage",
        /worker ids look like/,
      ),
      refusedOnSocket(
        "maxParallel 1e9",
        [line({ id: 1, method: "configure", params: { maxParallel: 1e9 } })],
        "usage",
        /maxParallel: /,
      ),
      refusedOnSocket(
        "a timeout that is text",
        [line({ id: 1, method: "wait", params: { timeoutMs: "soon" } })],
        "usage",
        /timeoutMs: /,
      ),
      refusedOnSocket(
        "bytes that are not UTF-8",
        [Buffer.from([0xff, 0xfe, 0x7b, 0x0a])],
        "usage",
        /not valid JSON/,
      ),
      refusedOnSocket(
        "50,000 levels of nesting",
        [`${"[".repeat(50_000)}${"]".repeat(50_000)}\n`],
        "usage",
        /request|JSON/,
      ),
      {
        name: "cancel with nonsense is answered and harmless",
        run: async () => {
          const { replies } = await exchange([
            line({ id: 1, method: "cancel", params: { id: "everything" } }),
          ]);
          assert.equal(replies[0]?.ok, true);
        },
      },
      {
        name: "a 65 MB line is refused and the connection closed",
        run: async () => {
          const { replies, closed } = await exchange([Buffer.alloc(65 * 1024 * 1024, 0x61)], {
            until: "close",
          });
          assert.equal(closed, true);
          assert.match(replies[0]?.error?.message ?? "", /a message is longer than 67108864 bytes/);
        },
      },
      {
        name: "10,000 pipelined requests are all answered",
        run: async () => {
          const lines = Array.from({ length: 10_000 }, (_, i) => line({ id: i + 1, method: "list" })).join(
            "",
          );
          const { replies } = await exchange([lines], { until: 10_000 });
          assert.equal(replies.length, 10_000);
          assert.ok(replies.every((reply) => reply.ok));
        },
      },
      {
        name: "no hello first",
        run: async () => {
          const { replies, closed } = await exchange([line({ id: 1, method: "list" })], {
            hello: false,
            until: "close",
          });
          assert.match(replies[0]?.error?.message ?? "", /the first request must be "hello"/);
          assert.equal(closed, true);
        },
      },
      {
        name: "a hello naming another process",
        run: async () => {
          const { replies, hello, closed } = await exchange([line({ id: 1, method: "list" })], {
            hello: ws.supervisorPid()!,
            until: "close",
          });
          assert.match(hello?.error?.message ?? "", /process \d+ does not hold this connection/);
          assert.equal(replies.length, 0, "nothing after the hello is answered");
          assert.equal(closed, true);
        },
      },
      {
        name: "a hello whose pid is text",
        run: async () => {
          const { replies, closed } = await exchange(
            [line({ id: 0, method: "hello", params: { pid: "me" } })],
            {
              hello: false,
              until: "close",
            },
          );
          assert.match(replies[0]?.error?.message ?? "", /^pid: /);
          assert.equal(closed, true);
        },
      },
      {
        name: "half a line, then hanging up",
        run: async () => {
          const { replies } = await exchange(['{"id": 1, "method": "li'], { until: 0 });
          assert.deepEqual(replies, []);
        },
      },
    ],
  },
];

describe("hostile input", () => {
  let pid: number | undefined;
  before(async () => {
    ws = await Workspace.create(directiveScript());
    cwd = join(ws.dir, "s1", "s2", "s3", "s4", "work");
    const wf = join(cwd, "wf");
    mkdirSync(wf, { recursive: true });
    for (const [name, content] of Object.entries({ ...WORKFLOWS, ...PACKS }))
      writeFileSync(join(wf, name), content);
    symlinkSync("/dev/zero", join(wf, "zero-pack.yaml"));
    mkdirSync(join(wf, "folder.yaml"));
    mkdirSync(join(wf, "folder-pack.yaml"));
    execFileSync("mkfifo", [join(wf, "fifo.yaml"), join(wf, "fifo-pack.yaml")]);
    mkdirSync(join(ws.dir, "symlink-target"));
    mkdirSync(join(ws.dir, "symlinked"));
    symlinkSync(join(ws.dir, "symlink-target"), join(ws.dir, "symlinked", ".baton"));
    symlinkSync(join(ws.dir, "symlink-target"), join(cwd, "linked-home"));
    await baton(["ls"]);
    pid = ws.supervisorPid();
    assert.ok(pid, "the supervisor runs");
  });
  after(() => ws.cleanup());

  for (const group of GROUPS) {
    describe(group.name, () => {
      let before_: Map<string, string>;
      before(() => {
        before_ = snapshot(ws.dir, [ws.home, ws.codexHome]);
      });
      for (const c of group.cases) test(c.name, c.run);
      test("afterwards: the same supervisor answers, and nothing was written outside .baton/", async () => {
        const log = readFileSync(join(ws.home, "supervisor.log"), "utf8");
        assert.equal(ws.supervisorPid(), pid, `the supervisor was replaced; its log:\n${log}`);
        const listed = await baton(["ls"]);
        assert.equal(listed.code, 0, listed.stderr);
        assert.equal(ws.supervisorPid(), pid, "not restarted by that ls either");
        assert.doesNotMatch(log, /uncaught|unhandled/);
        const now = snapshot(ws.dir, [ws.home, ws.codexHome]);
        const changed = [...new Set([...now.keys(), ...before_.keys()])].filter(
          (k) => now.get(k) !== before_.get(k),
        );
        assert.deepEqual(changed, [], "nothing outside .baton/ was created, changed or removed");
      });
    });
  }

  describe("two CLI calls racing on one worker", () => {
    test("two stops at once: both succeed, the worker is canceled once", async () => {
      const id = (await baton(["spawn", "--codex-bin", IDLE, "idle"])).stdout.trim();
      const [a, b] = await Promise.all([
        baton(["stop", id, "--grace", "0"]),
        baton(["stop", id, "--grace", "0"]),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const result = JSON.parse((await baton(["result", id, "--json"])).stdout) as { state: string };
      assert.equal(result.state, "canceled");
      assert.equal(readdirSync(join(ws.home, "workers", id)).filter((n) => n === "result.json").length, 1);
    });

    test("a stop and a result at once: the result waits for nothing and says how things stand", async () => {
      const id = (await baton(["spawn", "--codex-bin", IDLE, "idle"])).stdout.trim();
      const [stop, result] = await Promise.all([baton(["stop", id, "--grace", "0"]), baton(["result", id])]);
      assert.equal(stop.code, 0, stop.stderr);
      assertOneLineError(result, new RegExp(`worker ${id} (is still running|canceled)`));
    });

    test("two sends at once both reach the worker's terminal", async () => {
      const id = (await baton(["spawn", "--codex-bin", INTERACTIVE, "talk"])).stdout.trim();
      await ws.printed(id, /ready>/, "test");
      const sends = await Promise.all([baton(["send", id, "first"]), baton(["send", id, "second"])]);
      for (const send of sends) assert.equal(send.code, 0, send.stderr);
      const logs = await ws.printed(
        id,
        (seen) => /you said first/.test(seen) && /you said second/.test(seen),
        "test",
      );
      assert.match(logs, /you said first/);
      assert.match(logs, /you said second/);
      await baton(["stop", id, "--grace", "0"]);
    });

    test("an interrupt and a stop at once: the worker ends canceled", async () => {
      const id = (await baton(["spawn", "--codex-bin", INTERACTIVE, "talk"])).stdout.trim();
      await ws.printed(id, /ready>/, "test");
      const [interrupt, stop] = await Promise.all([
        baton(["interrupt", id]),
        baton(["stop", id, "--grace", "0"]),
      ]);
      assert.ok(interrupt.code === 0 || /not running/.test(interrupt.stderr), interrupt.stderr);
      assert.equal(stop.code, 0, stop.stderr);
      const result = JSON.parse((await baton(["result", id, "--json"])).stdout) as { state: string };
      assert.equal(result.state, "canceled");
    });

    test("two writers with --no-wait on the same path at once: one runs, the other is refused", async () => {
      const [a, b] = await Promise.all(
        [0, 1].map(() =>
          baton(["spawn", "--no-wait", "--write", "shared.txt", "--codex-bin", IDLE, "write it"]),
        ),
      );
      const ok = [a, b].filter((r) => r.code === 0);
      const busy = [a, b].filter((r) => r.code !== 0);
      assert.equal(ok.length, 1, `${a.stderr} ${b.stderr}`);
      assertOneLineError(busy[0]!, /holds .*shared.txt for writing/);
      await baton(["stop", ok[0]!.stdout.trim(), "--grace", "0"]);
    });

    test("two --no-wait writers of one path in one burst on the socket: exactly one is refused", async () => {
      const writer = (id: number) =>
        line({
          id,
          method: "spawn",
          params: { task: "w", cwd, env: {}, bin: IDLE, write: ["burst.txt"], noWait: true },
        });
      const { replies } = await exchange([writer(1) + writer(2)], { until: 2 });
      const accepted = replies.filter((reply) => reply.ok);
      const busy = replies.filter((reply) => !reply.ok);
      assert.equal(accepted.length, 1, JSON.stringify(replies));
      assert.equal(busy[0]?.error?.code, "busy");
      assert.match(busy[0]?.error?.message ?? "", /holds .*burst.txt for writing/);
      await baton(["stop", (accepted[0]!.result as { id: string }).id, "--grace", "0"]);
    });

    test("two waits on one worker both return when it is stopped", async () => {
      const id = (await baton(["spawn", "--codex-bin", IDLE, "idle"])).stdout.trim();
      const waits = Promise.all([baton(["wait", id]), baton(["wait", id])]);
      await sleep(500);
      await baton(["stop", id, "--grace", "0"]);
      for (const wait of await waits) {
        assert.equal(wait.code, 1);
        assert.match(wait.stdout, new RegExp(`${id} canceled`));
      }
    });

    test("afterwards: the same supervisor answers", async () => {
      assert.equal(ws.supervisorPid(), pid);
      assert.equal((await baton(["ls"])).code, 0);
    });
  });
});
