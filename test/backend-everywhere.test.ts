import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { BACKEND_NAMES } from "../dist/backend/registry.js";
import type { WorkerInfo } from "../dist/index.js";
import { parseAgent, parseRoleAgent } from "../dist/pattern/index.js";
import type { ModelRequest } from "../dist/scripted-model/index.js";
import { connectMcp, type Workspace } from "./support/harness.ts";
import { MixedWorkspace, type Reply } from "./support/mixed.ts";

// One backend per worker, everywhere: the workspace's default (`baton config --backend`), a run's
// `--backend` and `--role-backend`, a workflow file's `backend:` per step and file-wide, the MCP tools'
// `backend` fields, and a backend Baton does not know, refused in one line before anything starts.
// Real codex, Claude Code and Gemini CLI workers, each against its own scripted server.

const finding = (title: string, location: string) => ({
  title,
  severity: "high",
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title.toLowerCase()}`,
  sources: [],
});

function reply(request: ModelRequest): Reply {
  const text = request.userText;
  if (text.includes("Choose the best option"))
    return { json: { choice: "A", reason: "simplest", refined: "A+" } };
  if (text.includes("TASK: SYNTHESIS")) return { text: "SYNTHESIS DONE" };
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim();
  if (lens === "Security")
    return { json: { summary: "s", findings: [finding("Input reaches eval", "calc.js:2")] } };
  if (lens) return { json: { summary: lens, findings: [finding("add subtracts", "calc.js:1")] } };
  const marker = /MARK-([a-z-]+)/.exec(text)?.[1];
  return { text: marker ? `answer for ${marker}` : "unexpected prompt" };
}

interface RunJson {
  dir: string;
  markdown: string;
  workers: { id: string; label: string; step: string; backend?: string; model?: string }[];
  result: Record<string, unknown>;
}

describe("a backend for every worker", () => {
  let mixed: MixedWorkspace;
  let ws: Workspace;
  before(async () => {
    mixed = await MixedWorkspace.create(reply);
    ws = mixed.ws;
    writeFileSync(join(ws.dir, "calc.js"), "export const add = (a, b) => a - b;\n// eval(input)\n");
  });
  after(() => mixed.cleanup());

  const backends = (out: RunJson) => Object.fromEntries(out.workers.map((w) => [w.label, w.backend]));
  const run = async (args: string[]) => JSON.parse(await ws.ok(["run", ...args, "--json"])) as RunJson;

  test("an unknown backend is refused in one line that names the known ones, before anything starts", async () => {
    const known = `choose one of ${BACKEND_NAMES.join(", ")}`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    writeFileSync(
      join(ws.dir, "bad.yaml"),
      "steps:\n  - id: map\n    task: map it\n  - id: look\n    task: look\n    backend: gemeni\n",
    );
    const cases: [string[], RegExp][] = [
      [["config", "--backend", "nope"], new RegExp(`^baton: unknown backend "nope": ${known}\\n$`)],
      [
        ["run", "review", "--backend", "nope", "x"],
        new RegExp(`^baton: unknown backend "nope" \\(the run's backend\\): ${known}\\n$`),
      ],
      [
        ["run", "review", "--lens", "security=nope", "--lens", "correctness", "x"],
        new RegExp(`^baton: unknown backend "nope" \\(lens security\\): ${known}\\n$`),
      ],
      [
        ["run", "options", "--role-backend", "synthesis=nope", "x"],
        new RegExp(`^baton: unknown backend "nope" \\(role synthesis\\): ${known}\\n$`),
      ],
      [
        ["run", "bad.yaml"],
        new RegExp(
          `^baton: bad\\.yaml:6: steps\\[1\\]\\.backend: unknown backend "gemeni": ${known} \\(did you mean "gemini"\\?\\)\\n$`,
        ),
      ],
      [
        ["spawn", "--backend", "nope", "x"],
        /^baton: option '--backend <name>' argument 'nope' is invalid\. Allowed choices are codex, claude, gemini, [^\n]*\. \(see `baton spawn --help`\)\n$/,
      ],
    ];
    for (const [args, expected] of cases) {
      const result = await ws.baton(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, expected, args.join(" "));
    }
    assert.equal(existsSync(join(ws.home, "runs")), false, "no run was started");
    assert.equal(ws.supervisorPid(), undefined, "not even a supervisor");
  });

  test("BACKEND:MODEL reads a backend whose own name holds a colon (acp:gemini) as that backend", () => {
    assert.deepEqual(parseAgent("claude:claude-sonnet-4-5", "--lens", BACKEND_NAMES), {
      backend: "claude",
      model: "claude-sonnet-4-5",
    });
    assert.deepEqual(parseAgent("acp:gemini", "--lens", BACKEND_NAMES), { backend: "acp:gemini" });
    assert.deepEqual(parseAgent("acp:gemini:gemini-2.5-flash", "--lens", BACKEND_NAMES), {
      backend: "acp:gemini",
      model: "gemini-2.5-flash",
    });
    assert.deepEqual(parseAgent("openrouter:anthropic/claude", "--lens", BACKEND_NAMES), {
      backend: "openrouter",
      model: "anthropic/claude",
    });
    assert.deepEqual(parseRoleAgent("verifier=acp:opencode", BACKEND_NAMES), {
      role: "verifier",
      agent: { backend: "acp:opencode" },
    });
  });

  test("a backend whose binary is missing fails the run in one line, and stops the workers it started", async () => {
    const env = { ...ws.env, BATON_CLAUDE_BIN: join(ws.dir, "no-claude") };
    const failed = await ws.baton(
      ["run", "review", "--lens", "correctness", "--lens", "security=claude", "x"],
      {
        env,
      },
    );
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(
      failed.stderr,
      /\nbaton: claude binary \S+no-claude does not exist or is not executable: install it with `npm install -g @anthropic-ai\/claude-code`[^\n]*\n$/,
    );
    const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;
    const started = listed.filter((w) => w.run !== undefined && w.label?.endsWith(":review-correctness"));
    assert.equal(started.length, 1, "the codex reviewer had started");
    assert.ok(
      ["canceled", "succeeded"].includes(started[0]!.state),
      `it was stopped with the run, not left running: ${started[0]!.state}`,
    );
  });

  test("the workspace's default backend: shown by baton config, taken by spawns and runs that name none", async () => {
    assert.match(await ws.ok(["config"]), /^backend {7}codex \(Baton's default/);
    await ws.ok(["config", "--backend", "gemini"]);
    try {
      const shown = await ws.json<{ backend: string; backendSource: string; maxParallel: number }>([
        "config",
      ]);
      assert.deepEqual(
        { backend: shown.backend, source: shown.backendSource, maxParallel: shown.maxParallel },
        { backend: "gemini", source: "workspace", maxParallel: 8 },
      );
      const onDefault = (await ws.ok(["spawn", "MARK-on-default"])).trim();
      const overridden = (await ws.ok(["spawn", "--backend", "claude", "MARK-overridden"])).trim();
      assert.equal((await ws.baton(["wait", onDefault, overridden])).code, 0);
      const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;
      assert.equal(listed.find((w) => w.id === onDefault)?.backend, "gemini");
      assert.equal(listed.find((w) => w.id === overridden)?.backend, "claude");
      assert.equal((await ws.ok(["result", onDefault])).trim(), "answer for on-default");
      assert.equal(mixed.requestsWith("MARK-on-default").codex.length, 0, "the default, not codex");

      // A run that names no backend settles on the default, and keeps it in its record.
      const out = await run([
        "review",
        "--lens",
        "correctness",
        "--lens",
        "security=claude",
        "Review calc.js",
      ]);
      assert.deepEqual(backends(out), {
        "review-correctness": "gemini",
        "review-security": "claude",
        synthesis: "gemini",
      });
    } finally {
      await ws.ok(["config", "--backend", "codex"]);
    }
  });

  test("--backend sets a run's backend; --role-backend a role's, with its own model", async () => {
    const out = await run([
      "options",
      "--count",
      "2",
      "--backend",
      "claude",
      "--role-backend",
      "synthesis=gemini:gemini-2.5-flash",
      "MARK-options Pick a cache",
    ]);
    assert.deepEqual(backends(out), { "option-A": "claude", "option-B": "claude", select: "gemini" });
    assert.equal(out.workers.find((w) => w.label === "select")?.model, "gemini-2.5-flash");
    assert.match(out.markdown, /^Selected: option A$/m);
    const select = mixed.requestsWith("Choose the best option");
    assert.equal(select.gemini.length, 1);
    assert.deepEqual([select.codex.length, select.claude.length], [0, 0]);
    assert.equal(mixed.requestsWith("Propose option A").claude.length, 1);
  });

  test("a workflow file: a backend per step, and the file's for the others; --backend overrides the file's", async () => {
    writeFileSync(
      join(ws.dir, "mixed.yaml"),
      [
        "backend: gemini",
        "steps:",
        "  - id: map",
        "    role: scout",
        "    backend: claude",
        "    task: MARK-map the code",
        "  - id: review",
        "    role: reviewer",
        "    lens: security",
        "    structured: true",
        "    depends_on: map",
        "    task: Review calc.js",
        "  - id: merge",
        "    merge: review",
        "    backend: codex",
        "    task: Rank the findings",
        "",
      ].join("\n"),
    );
    const out = await run(["mixed.yaml"]);
    assert.deepEqual(backends(out), { map: "claude", review: "gemini", merge: "codex" });
    assert.equal(mixed.requestsWith("MARK-map").claude.length, 1);
    assert.match(out.markdown, /SYNTHESIS DONE/);
    assert.match(out.markdown, /\(lens: security; 1 of 1 reviewers; backend: gemini\)/);

    const again = await run(["mixed.yaml", "--backend", "claude"]);
    assert.deepEqual(backends(again), { map: "claude", review: "claude", merge: "codex" });
  });

  describe("over MCP", () => {
    let client: Client;
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as {
        content: { type: string; text: string }[];
        isError?: boolean;
      };
      return { text: result.content.map((c) => c.text).join(""), isError: result.isError === true };
    };
    before(async () => {
      client = await connectMcp(ws);
    });
    after(() => client.close());

    test("run_pattern runs each lens on its own backend, and the findings say which", async () => {
      const done = await call("run_pattern", {
        pattern: "review",
        task: "Review calc.js",
        lenses: [
          { lens: "security", backend: "claude" },
          { lens: "correctness", backend: "gemini" },
          "risks",
        ],
        waitSeconds: 300,
      });
      assert.equal(done.isError, false, done.text);
      assert.match(
        done.text,
        /Input reaches eval — calc\.js:2 \(lens: security; 1 of 3 reviewers; backend: claude\)/,
      );
      assert.match(
        done.text,
        /add subtracts — calc\.js:1 \(lenses: correctness, risks; 2 of 3 reviewers; backends: codex, gemini\)/,
      );
      assert.match(
        done.text,
        /Reviewers: security \(w\d+, claude(?: [^;)]+)?\); correctness \(w\d+, gemini gemini-2\.5-pro\); risks \(w\d+, codex(?: [^;)]+)?\)/,
      );
      const bad = await call("run_pattern", {
        pattern: "review",
        task: "x",
        lenses: [{ lens: "security", backend: "nope" }, "risks"],
      });
      assert.match(
        bad.text,
        /unknown backend "nope" \(lens security\): choose one of codex, claude, gemini, /,
      );
    });

    test("spawn takes a backend for all its tasks, or one per task", async () => {
      const started = await call("spawn", {
        backend: "gemini",
        tasks: [{ task: "MARK-mcp-shared" }, { task: "MARK-mcp-own", backend: "claude" }],
      });
      assert.equal(started.isError, false, started.text);
      const ids = started.text.split("\n");
      assert.equal((await ws.baton(["wait", ...ids])).code, 0);
      const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;
      assert.deepEqual(
        ids.map((id) => listed.find((w) => w.id === id)?.backend),
        ["gemini", "claude"],
      );
    });
  });
});
