import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import type { PollResult, WorkerResult } from "../dist/index.js";
import { terminalJson, terminalText } from "../dist/render/terminal-text.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { CLI, FIXTURES, ROOT, Workspace } from "./support/harness.ts";

// Text from a worker or a model is shown on a terminal, never obeyed by it: each command runs in a real
// pseudo-terminal, and what reaches the screen must hold no control character but the terminal's own
// line ends, while --json and a pipe keep the exact text.

const ESCAPE_AGENT = join(FIXTURES, "escape-agent.mjs");

/** What test/fixtures/escape-agent.mjs prints and answers; the real codex worker answers it too. */
const HOSTILE = "clear\x1b[2J title\x1b]0;pwned\x07 csi\x9b31m del\x7f bidi\u202eevil\u2066 cr\rover";
const ANSWER = `answer: ${HOSTILE}`;
/** How each part of HOSTILE must look on the screen. */
const SHOWN = [
  "clear\\x1b[2J",
  "title\\x1b]0;pwned\\x07",
  "csi\\x9b31m",
  "del\\x7f",
  "bidi\\u202eevil\\u2066",
  "cr\\rover",
];

/** Every control character a terminal acts on but newline, tab and carriage return (checked apart). */
const RAW = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

interface Screen {
  readonly output: string;
  readonly code: number;
}

/** The bin, the native client (native/baton.c), which runs result, poll, wait and ls in the supervisor. */
const NATIVE = join(ROOT, "dist/cli/baton");
const CLIENTS = ["node", "native"] as const;

/**
 * Runs the CLI (Node's, or the native client) in a real pseudo-terminal (stdout and stderr both a TTY)
 * and returns what it drew.
 */
function onScreen(
  ws: Workspace,
  args: readonly string[],
  env: NodeJS.ProcessEnv = ws.env,
  client: (typeof CLIENTS)[number] = "node",
): Promise<Screen> {
  return new Promise((resolve) => {
    const [file, argv] = client === "native" ? [NATIVE, [...args]] : [process.execPath, [CLI, ...args]];
    const terminal = pty.spawn(file, argv, {
      cwd: ws.dir,
      env: env as Record<string, string>,
      cols: 250,
      rows: 50,
    });
    let output = "";
    terminal.onData((data) => {
      output += data;
    });
    terminal.onExit(({ exitCode }) => resolve({ output, code: exitCode }));
  });
}

/** The screen shows every part of the hostile text as text, and holds nothing a terminal would act on. */
function assertShownAsText(screen: Screen, shown: readonly string[] = SHOWN): void {
  const raw = RAW.exec(screen.output);
  assert.equal(
    raw,
    null,
    `raw ${JSON.stringify(raw?.[0])} reached the screen: ${JSON.stringify(screen.output)}`,
  );
  // The terminal turns each newline into CR LF; a CR on its own came from the worker.
  assert.doesNotMatch(screen.output, /\r(?!\n)/, "no bare carriage return");
  for (const part of shown) assert.ok(screen.output.includes(part), `shows ${part}: ${screen.output}`);
}

describe("worker text on a terminal", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const spawnEscapeAgent = async (env: NodeJS.ProcessEnv = ws.env, label = "hostile") => {
    const spawned = await ws.baton(["spawn", "--label", label, "--codex-bin", ESCAPE_AGENT, "go"], { env });
    assert.equal(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    await ws.baton(["wait", id]);
    return id;
  };

  test("terminalText shows every control character but newline and tab, and JSON keeps the exact text", () => {
    assert.equal(
      terminalText("a\x1b[2Jb\x07\x00\x7f\x85\x9b\u202a\u202e\u2066\u2069\r\n\tz é 😀"),
      "a\\x1b[2Jb\\x07\\x00\\x7f\\x85\\x9b\\u202a\\u202e\\u2066\\u2069\\r\n\tz é 😀",
    );
    const json = terminalJson({ answer: HOSTILE }, 2);
    assert.equal(RAW.exec(json), null, json);
    assert.deepEqual(JSON.parse(json), { answer: HOSTILE });
  });

  test("a real codex worker's answer with escape sequences: shown as text by result on a terminal, exact with --json and in a pipe", async () => {
    const prompt = `answer with escapes\n${modelScriptLine([{ type: "message", text: ANSWER }])}`;
    const id = (await ws.ok(["spawn", "--label", "codex-escapes", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);

    for (const client of CLIENTS) {
      const screen = await onScreen(ws, ["result", id], ws.env, client);
      assert.equal(screen.code, 0, screen.output);
      assertShownAsText(screen);

      // --json on a terminal: still nothing raw, and it parses back to the exact answer.
      const json = await onScreen(ws, ["result", id, "--json"], ws.env, client);
      assertShownAsText(json, []);
      assert.equal((JSON.parse(json.output) as WorkerResult).answer, ANSWER);
    }

    // A pipe gets the exact bytes: a script may want them.
    assert.equal((await ws.json<WorkerResult>(["result", id])).answer, ANSWER);
    assert.equal(await ws.ok(["result", id]), `${ANSWER}\n`);
  });

  test("a transcript with escape sequences: shown as text by poll and logs on a terminal, raw in a pipe", async () => {
    const id = await spawnEscapeAgent();
    const transcriptParts = SHOWN.map((part) => part);

    const logs = await onScreen(ws, ["logs", id]);
    assert.equal(logs.code, 0, logs.output);
    assertShownAsText(logs, transcriptParts);

    for (const client of CLIENTS) {
      const poll = await onScreen(ws, ["poll", id, "--reader", `screen-${client}`], ws.env, client);
      assert.equal(poll.code, 0, poll.output);
      assertShownAsText(poll, transcriptParts);
    }

    // Piped, both keep the bytes; --json keeps them exactly, escaped by JSON.
    assert.ok((await ws.ok(["logs", id])).includes(`transcript: ${HOSTILE}`));
    assert.ok((await ws.ok(["poll", id, "--reader", "pipe"])).includes(`transcript: ${HOSTILE}`));
    const polled = await ws.json<PollResult>(["poll", id, "--reader", "json"]);
    assert.ok(polled.output.includes(`transcript: ${HOSTILE}`));
    const pollJson = await onScreen(ws, ["poll", id, "--reader", "json-screen", "--json"]);
    assertShownAsText(pollJson, []);
  });

  test("a failed worker's reason and a label are shown as text by result, wait and ls on a terminal", async () => {
    const label = "bidi\u202elabel";
    const id = await spawnEscapeAgent({ ...ws.env, ESCAPE_FAIL: "1" }, label);
    const failure = ["clear\\x1b[2J", "title\\x1b]0;pwned\\x07", "csi\\x9b31m", "bidi\\u202eevil"];

    for (const client of CLIENTS) {
      const result = await onScreen(ws, ["result", id], ws.env, client);
      assert.equal(result.code, 1, result.output);
      assertShownAsText(result, [`worker ${id} failed: exit code 3: failed: `, ...failure]);

      const waited = await onScreen(ws, ["wait", id], ws.env, client);
      assert.equal(waited.code, 1, waited.output);
      assertShownAsText(waited, [`${id} (bidi\\u202elabel) failed`, ...failure]);
      // It had ended already: nothing is waited for, and the screen does not say so.
      assert.doesNotMatch(waited.output, /waiting for/);

      const listed = await onScreen(ws, ["ls"], ws.env, client);
      assert.equal(listed.code, 0, listed.output);
      assertShownAsText(listed, ["bidi\\u202elabel"]);
    }
    const json = await ws.json<{ workers: { id: string; label?: string }[] }>(["ls"]);
    assert.equal(json.workers.find((w) => w.id === id)?.label, label);
  });

  test("plan steps are shown as text by plan show and ls on a terminal, exact with --json", async () => {
    const step = "Scout\x1b[2J the \x9bparser\u202e";
    await ws.ok(["plan", "set", step, "Fix it", "Test it"]);
    const shown = ["Scout\\x1b[2J the \\x9bparser\\u202e"];
    assertShownAsText(await onScreen(ws, ["plan", "show"]), shown);
    for (const client of CLIENTS) assertShownAsText(await onScreen(ws, ["ls"], ws.env, client), shown);
    const plan = await ws.json<{ steps: { step: string }[] }>(["plan", "show"]);
    assert.equal(plan.steps[0]?.step, step);
    await ws.ok(["plan", "set", "Done"]);
  });

  test("baton run prints a worker's answer inside its result as text on a terminal", async () => {
    const file = join(ws.dir, "echo.yaml");
    writeFileSync(file, "steps:\n  - id: echo\n    task: say what you say\n");
    const screen = await onScreen(ws, ["run", file, "--codex-bin", ESCAPE_AGENT]);
    assert.equal(screen.code, 0, screen.output);
    // Baton's own colours on the progress lines are the only escape sequences allowed, and, where the
    // run lasts long enough for its live lines, the ones that redraw them (erase a line, erase below,
    // go up), none of which the hostile text holds.
    const ours = /\x1b\[(?:0|1|3[0-9])m/g;
    const redraw = /\x1b\[(?:2K|J|[0-9]*F)/g;
    assert.match(screen.output, ours, "the progress is coloured");
    assertShownAsText({ ...screen, output: screen.output.replace(ours, "").replace(redraw, "") });
    const piped = await ws.baton(["run", file, "--codex-bin", ESCAPE_AGENT, "--json"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok((JSON.parse(piped.stdout) as { markdown: string }).markdown.includes(ANSWER));
  });
});
