import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { WorkerResult } from "../dist/index.js";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { connectMcp, FIXTURES, Workspace } from "./support/harness.ts";

// Named agents in the config (`baton config --agent NAME --cmd LINE`): added, shown, removed and refused
// in one line; used by name by spawn, a review lens, a workflow step and the workspace's default, as
// `--cmd` would run them; and through the real MCP server over stdio, which takes names, never lines.

const BUILTIN = "codex, claude, gemini, acp, acp:gemini, acp:opencode, command";
const say = (text: string): ScriptStep => ({ type: "message", text });
const finding = (title: string, location: string) => ({
  title,
  severity: "high",
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title.toLowerCase()}`,
  sources: [],
});

/** The codex workers: a lens's findings, and the synthesis of a review. */
function fallback(request: ModelRequest): ScriptStep {
  const text = request.userText;
  if (text.includes("merged review findings"))
    return say(`RECOMMENDATIONS from ${(text.match(/^F\d+ \[/gm) ?? []).length} merged findings`);
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim();
  if (lens) return say(JSON.stringify({ summary: lens, findings: [finding("add subtracts", "calc.js:1")] }));
  return say("done");
}

/** A reviewer as a program: its lens's findings, written to $BATON_ANSWER_FILE. */
const FINDINGS_AGENT = `#!/bin/sh
lens=$(grep '^LENS: ' | head -n 1 | cut -c7-)
printf '{"summary":"%s","findings":[{"title":"Named agent saw %s","severity":"critical","location":"calc.js:2","evidence":"args %s","recommendation":"remove eval","sources":[]}]}\\n' "$lens" "$lens" "$*" > "$BATON_ANSWER_FILE"
`;

describe("named agents", () => {
  let ws: Workspace;
  let client: Client | undefined;
  let agents: string;
  const answerFile = join(FIXTURES, "answer-file-command.sh");
  const lintLine = `${answerFile} --strict`;

  before(async () => {
    ws = await Workspace.create(directiveScript(fallback));
    // The user's config folder is the test's own: a person's real ~/.config/baton is never read.
    ws.env = { ...ws.env, XDG_CONFIG_HOME: join(ws.dir, "xdg") };
    agents = join(ws.dir, "agents");
    mkdirSync(agents);
    writeFileSync(join(agents, "findings.sh"), FINDINGS_AGENT);
    chmodSync(join(agents, "findings.sh"), 0o755);
    writeFileSync(join(ws.dir, "calc.js"), "export const add = (a, b) => a - b;\n// eval(input)\n");
  });
  after(async () => {
    await client?.close();
    await ws.cleanup();
  });

  const refused = async (args: string[], line: string) => {
    const out = await ws.baton(args);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assert.equal(out.stderr, `baton: ${line}\n`);
    assert.equal(out.stdout, "");
  };
  const configJson = async () =>
    JSON.parse(await ws.ok(["config", "--json"])) as {
      backend: string;
      agents: Record<string, { backend: string; cmd?: string; agentCmd?: string; scope: string }>;
    };

  test("config adds, replaces, shows and removes them, in .baton/config.json", async () => {
    assert.equal(await ws.ok(["config", "--agent", "lint", "--cmd", "old-line"]), "");
    assert.equal(await ws.ok(["config", "--agent", "lint", "--cmd", lintLine]), "", "replaced");
    await ws.ok(["config", "--agent", "my-acp", "--agent-cmd", "my-agent acp --verbose"]);
    await ws.ok([
      "config",
      "--agent",
      "findings",
      "--cmd",
      `${join(agents, "findings.sh")} --deep 'two words'`,
    ]);
    await ws.ok(["config", "--agent", "gone", "--cmd", "some-agent"]);
    await ws.ok(["config", "--remove-agent", "gone"]);
    const file = JSON.parse(readFileSync(join(ws.home, "config.json"), "utf8"));
    assert.deepEqual(file, {
      agents: {
        lint: { backend: "command", cmd: lintLine },
        "my-acp": { backend: "acp", agentCmd: "my-agent acp --verbose" },
        findings: { backend: "command", cmd: `${join(agents, "findings.sh")} --deep 'two words'` },
      },
    });
    const text = await ws.ok(["config"]);
    assert.match(text, /^agents {8}findings {2}command {2}.*findings\.sh --deep 'two words'$/m);
    assert.match(text, /^ {14}lint {6}command {2}.*answer-file-command\.sh --strict$/m);
    assert.match(text, /^ {14}my-acp {4}acp {6}my-agent acp --verbose$/m);
    const shown = await configJson();
    assert.deepEqual(shown.agents.lint, {
      backend: "command",
      cmd: lintLine,
      scope: "workspace",
      file: join(ws.home, "config.json"),
    } as never);
  });

  test("a wrong name, a backend's name, a shell line or an unknown agent is refused in one line", async () => {
    const rule = "a name is a lowercase letter, then up to 31 lowercase letters, digits, - or _";
    await refused(["config", "--agent", "Lint", "--cmd", "x"], `--agent "Lint": ${rule}`);
    await refused(["config", "--agent", "my:agent", "--cmd", "x"], `--agent "my:agent": ${rule}`);
    await refused(
      ["config", "--agent", "claude", "--cmd", "x"],
      `--agent "claude": that is a backend's own name (${BUILTIN}): choose another`,
    );
    await refused(
      ["config", "--agent", "x", "--cmd", "agent | tee out"],
      `--cmd "agent | tee out": | means something only to a shell, and Baton runs the command without one: quote it ('|'), or run sh -c '...' yourself`,
    );
    await refused(
      ["config", "--agent", "x"],
      '--agent "x" needs its program: --cmd LINE (any program) or --agent-cmd LINE (an ACP agent)',
    );
    await refused(
      ["config", "--remove-agent", "nope"],
      `--remove-agent "nope": ${join(ws.home, "config.json")} names no such agent (its agents: findings, lint, my-acp)`,
    );
    const choices = `${BUILTIN}, findings, lint, my-acp`;
    await refused(["config", "--backend", "nope"], `unknown backend "nope": choose one of ${choices}`);
    await refused(
      ["spawn", "--backend", "nope", "x"],
      `option '--backend <name>' argument 'nope' is invalid. Allowed choices are ${choices}. (see \`baton spawn --help\`)`,
    );
    await refused(
      ["run", "review", "--lens", "security=nope", "--lens", "correctness", "x"],
      `unknown backend "nope" (lens security): choose one of ${choices}`,
    );
    await refused(
      ["spawn", "--backend", "lint", "--cmd", "other", "x"],
      'backend "lint" is a named agent with its own program: drop --cmd/--agent-cmd, or give --backend command with it',
    );
    const before = readFileSync(join(ws.home, "config.json"), "utf8");
    assert.deepEqual(
      Object.keys((await configJson()).agents),
      ["findings", "lint", "my-acp"],
      "nothing written",
    );
    assert.equal(readFileSync(join(ws.home, "config.json"), "utf8"), before);
  });

  test("the user's config folder names agents for every workspace; the workspace's wins", async () => {
    const userDir = join(ws.dir, "xdg", "baton");
    mkdirSync(userDir, { recursive: true });
    const userFile = join(userDir, "config.json");
    writeFileSync(
      userFile,
      JSON.stringify({
        agents: {
          shared: { backend: "command", cmd: answerFile },
          lint: { backend: "command", cmd: "user-lint" },
        },
      }),
    );
    const shown = await configJson();
    assert.equal(shown.agents.shared?.scope, "user");
    assert.equal(shown.agents.lint?.cmd, lintLine, "the workspace's lint wins");
    await refused(
      ["config", "--remove-agent", "shared"],
      `--remove-agent "shared": it is the user's, in ${userFile}: remove it there`,
    );
    const id = (await ws.ok(["spawn", "--backend", "shared", "from the user's agent"])).trim();
    await ws.ok(["wait", id]);
    assert.match(await ws.ok(["result", id]), /answer for TASK: from the user's agent/);
    writeFileSync(userFile, JSON.stringify({ backend: "claude" }));
    await refused(
      ["config"],
      `${userFile}: "backend" is not read from the user's config, which holds only "agents": move it to a workspace's .baton/config.json`,
    );
    writeFileSync(userFile, JSON.stringify({ agents: { bad: { backend: "codex", cmd: "x" } } }));
    await refused(
      ["config"],
      `${userFile}: agents.bad backend must be {"backend": "command", "cmd": LINE} or {"backend": "acp", "agentCmd": LINE}: fix it, or remove it (baton config --remove-agent NAME for this workspace's)`,
    );
    writeFileSync(userFile, "{}");
  });

  test("spawn --backend NAME runs its program as --cmd would, labelled with its name", async () => {
    const id = (await ws.ok(["spawn", "--backend", "lint", "lint the thing"])).trim();
    await ws.ok(["wait", id]);
    const result = JSON.parse(await ws.ok(["result", id, "--json"])) as WorkerResult;
    assert.equal(result.state, "succeeded");
    assert.match(result.answer ?? "", /^answer for TASK: lint the thing \(file in .*\/workers\/w\d+\)$/);
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8"));
    assert.equal(spec.backend, "command");
    assert.equal(spec.label, "lint");
    assert.equal(spec.bin, answerFile);
    assert.deepEqual(spec.agentArgs, ["--strict"]);
    assert.match(await ws.ok(["ls"]), new RegExp(`^${id} +lint +- +succeeded`, "m"));
  });

  test("the workspace's default may be a named agent", async () => {
    await ws.ok(["config", "--backend", "lint"]);
    try {
      assert.match(await ws.ok(["config"]), /^backend +lint \(this workspace's default/m);
      await refused(
        ["config", "--remove-agent", "lint"],
        `--remove-agent "lint": it is this workspace's default backend: set another first (baton config --backend NAME)`,
      );
      const id = (await ws.ok(["spawn", "by default"])).trim();
      await ws.ok(["wait", id]);
      assert.match(await ws.ok(["result", id]), /answer for TASK: by default/);
    } finally {
      await ws.ok(["config", "--backend", "codex"]);
    }
  });

  test("a review lens on a named agent: its findings merged with codex's, named by the agent", async () => {
    const out = JSON.parse(
      await ws.ok([
        "run",
        "review",
        "--lens",
        "security=findings",
        "--lens",
        "correctness",
        "Review calc.js",
        "--json",
      ]),
    ) as {
      dir: string;
      markdown: string;
      workers: { label: string; backend?: string; agent?: string }[];
      result: {
        findings: { title: string; backends: string[]; evidence: { backend?: string; text: string }[] }[];
      };
    };
    const saw = out.result.findings.find((f) => f.title === "Named agent saw Security");
    assert.ok(saw, JSON.stringify(out.result.findings));
    assert.deepEqual(saw.backends, ["findings"]);
    assert.equal(saw.evidence[0]?.backend, "findings");
    assert.equal(
      saw.evidence[0]?.text,
      "args --deep two words",
      "the line's arguments, split as a shell would",
    );
    assert.match(out.markdown, /RECOMMENDATIONS from 2 merged findings/);
    const record = JSON.parse(readFileSync(join(out.dir, "run.json"), "utf8"));
    const security = record.workers.find((w: { label: string }) => w.label === "review-security");
    assert.equal(security.backend, "command");
    assert.equal(security.agent, "findings");
    assert.equal(
      record.settings.agents.findings.cmd,
      `${join(agents, "findings.sh")} --deep 'two words'`,
      "settled for a resume",
    );
  });

  test("a workflow step's backend may be a named agent; an unknown one is refused naming them", async () => {
    writeFileSync(join(ws.dir, "flow.yaml"), "steps:\n  - id: lint\n    task: lint it\n    backend: lint\n");
    const out = JSON.parse(await ws.ok(["run", "flow.yaml", "--json"])) as { markdown: string };
    assert.match(out.markdown, /answer for .*lint it/);
    writeFileSync(join(ws.dir, "typo.yaml"), "steps:\n  - id: lint\n    task: lint it\n    backend: lnt\n");
    const typo = await ws.baton(["run", "typo.yaml"]);
    assert.equal(typo.code, 2);
    assert.match(
      typo.stderr,
      new RegExp(
        `steps\\[0\\]\\.backend: unknown backend "lnt": choose one of ${BUILTIN}, findings, lint, my-acp \\(did you mean "lint"\\?\\)\\n$`,
      ),
    );
  });

  describe("through the MCP server", () => {
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client!.callTool({ name, arguments: args })) as {
        content: { type: string; text: string }[];
        isError?: boolean;
      };
      return { text: result.content.map((c) => c.text).join(""), isError: result.isError === true };
    };
    before(async () => {
      client = await connectMcp(ws, { stderr: "inherit" });
    });

    test("spawn and run_pattern list the named agents and say they take no command line", async () => {
      const { tools } = await client!.listTools();
      for (const name of ["spawn", "run_pattern"]) {
        const description = tools.find((t) => t.name === name)?.description ?? "";
        assert.match(
          description,
          / Named agents \(backend\): findings \(command\), lint \(command\), my-acp \(acp\); command lines are not taken\.$/,
        );
        assert.ok(description.length < 400, `${name}'s description is short`);
      }
    });

    test("spawn runs a named agent by name", async () => {
      const spawned = await call("spawn", { task: "from the lead agent", backend: "lint" });
      assert.equal(spawned.isError, false, spawned.text);
      const id = spawned.text.trim();
      await call("wait", { ids: [id], timeoutSeconds: 60 });
      const result = await call("result", { id });
      assert.match(result.text, /answer for TASK: from the lead agent/);
    });

    test("run_pattern runs a lens on a named agent", async () => {
      const ran = await call("run_pattern", {
        pattern: "review",
        task: "Review calc.js",
        lenses: [{ lens: "security", backend: "findings" }, "correctness"],
        waitSeconds: 120,
      });
      assert.equal(ran.isError, false, ran.text);
      assert.match(ran.text, /RECOMMENDATIONS from 2 merged findings/);
      assert.match(ran.text, /Named agent saw Security/);
    });

    test("a command line backend and an unknown name are refused in one line", async () => {
      const line =
        'backend "command" runs a command line, which the MCP tools do not take: use a named agent of the config (findings, lint, my-acp)';
      assert.deepEqual(await call("spawn", { task: "x", backend: "command" }), { isError: true, text: line });
      assert.deepEqual(
        await call("run_pattern", {
          pattern: "review",
          task: "x",
          roleBackends: { synthesis: { backend: "acp" } },
        }),
        { isError: true, text: line.replace('"command"', '"acp"') },
      );
      const choices = `choose one of ${BUILTIN}, findings, lint, my-acp`;
      assert.deepEqual(await call("spawn", { task: "x", backend: "nope" }), {
        isError: true,
        text: `unknown backend "nope": ${choices}`,
      });
      assert.deepEqual(await call("run_pattern", { pattern: "scout", task: "x", backend: "nope" }), {
        isError: true,
        text: `run_pattern scout failed: unknown backend "nope" (the run's backend): ${choices}`,
      });
    });
  });
});
