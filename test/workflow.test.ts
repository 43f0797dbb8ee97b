import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { Workspace } from "./support/harness.ts";

// `baton run FILE.yaml` end to end: real codex workers against a scripted model that answers each worker
// from what its prompt asks, and invalid files that must be refused before any worker starts.

const say = (text: string): ScriptStep => ({ type: "message", text });
const finding = (title: string, severity: string, location: string) => ({
  title,
  severity,
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title.toLowerCase()}`,
  sources: [],
});

const MAP = "SCOUT-MAP: calc.js line 1 holds add(), which subtracts";
const REVIEWS: Record<string, unknown> = {
  Security: { summary: "s", findings: [finding("Unvalidated input reaches eval", "critical", "calc.js:3")] },
  "Correctness/completeness": {
    summary: "c",
    findings: [
      finding("User input is passed to eval", "high", "calc.js:3-4"),
      finding("add subtracts instead of adding", "high", "calc.js:1"),
    ],
  },
};

function model(request: ModelRequest): ScriptStep {
  const text = request.userText;
  if (text.includes("TASK: SYNTHESIS")) {
    return say(`RANKED ${(text.match(/^F\d+ \[/gm) ?? []).length} findings; fix add() first`);
  }
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim();
  if (lens && REVIEWS[lens]) {
    // A second of work first, so that reviewers run one after the other would show in the request order.
    if (request.turn === 0) return { type: "shell", command: "sleep 1" };
    return say(JSON.stringify(REVIEWS[lens]));
  }
  if (text.includes("Fix the top finding")) {
    if (request.turn > 0) return say("FIXED: add() adds now");
    const first = readFileSync(join(project, "calc.js"), "utf8").split("\n")[0];
    return {
      type: "patch",
      patch: `*** Begin Patch\n*** Update File: calc.js\n@@\n-${first}\n+export const add = (a, b) => a + b;\n*** End Patch`,
    };
  }
  if (text.includes("Map the code for the reviewers")) return say(MAP);
  if (text.includes("Fail at once")) return { type: "http_error", status: 400 };
  if (text.includes("Take your time"))
    return request.turn < 12 ? { type: "shell", command: "sleep 600" } : say("late");
  return say("unexpected prompt");
}

let project = "";

const WORKFLOW = `# review, merge, then fix: the issue's example, on a tiny project
name: review-and-fix
context:
  goal: add() adds
  pointers: [calc.js]
steps:
  - id: scout
    role: scout
    task: Map the code for the reviewers
  - id: review
    role: reviewer
    for_each: [security, correctness]
    lens: "{{item}}"
    task: Review calc.js with the scout's map in mind
    depends_on: [scout]
    structured: true
  - id: merge
    merge: [review]
    task: Rank the findings and recommend fixes
  - id: fix
    role: implementer
    write: [calc.js]
    task: Fix the top finding
    depends_on: [merge]
`;

interface RunJson {
  run: string;
  dir: string;
  markdown: string;
  result: {
    workflow: string;
    result: string;
    answer: { answers: { answer: string }[] };
    steps: Record<string, { workers: string[]; findings?: unknown[] }>;
  };
}

describe("workflow files", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(model);
    project = ws.dir;
    writeFileSync(join(project, "calc.js"), "export const add = (a, b) => a - b;\n// eval(input)\n");
  });
  after(() => ws.cleanup());

  test("a graph runs to one result: fan-out in parallel, dependencies' answers passed on, merge, fix", async () => {
    writeFileSync(join(ws.dir, "review-and-fix.yaml"), WORKFLOW);
    const out = JSON.parse(await ws.ok(["run", "review-and-fix.yaml", "--json"])) as RunJson;

    // The one result is the last step's (no `result:` given), and the fix really happened.
    assert.equal(out.result.result, "fix");
    assert.equal(out.result.answer.answers[0]!.answer, "FIXED: add() adds now");
    assert.match(out.markdown, /^# review-and-fix\n\nFIXED: add\(\) adds now\n/);
    assert.match(readFileSync(join(ws.dir, "calc.js"), "utf8"), /a \+ b/);
    assert.equal(out.result.steps.review!.workers.length, 2, "one reviewer per for_each item");
    assert.equal(out.result.steps.merge!.findings!.length, 2, "the two eval findings were merged into one");

    const requests = ws.model.requests;
    const reviewers = (lens: string) => requests.filter((r) => r.userText.includes(`LENS: ${lens}`));
    const [security, correctness] = [reviewers("Security"), reviewers("Correctness/completeness")];
    assert.equal(security.length, 2);
    assert.equal(correctness.length, 2);
    // Parallel: both reviewers asked their first turn before either could finish its one-second command.
    const at = (r: ModelRequest) => requests.indexOf(r);
    assert.ok(
      Math.max(at(security[0]!), at(correctness[0]!)) < Math.min(at(security[1]!), at(correctness[1]!)),
      `reviewers overlapped: ${requests.map((r) => `${r.sessionId.slice(0, 4)}/${r.turn}`).join(" ")}`,
    );
    // Each dependent got the final answers of exactly its own dependencies, labelled, never transcripts.
    for (const reviewer of [security[0]!, correctness[0]!]) {
      assert.match(reviewer.userText, /--- step "scout" ---\nSCOUT-MAP: calc\.js/);
      assert.match(
        reviewer.userText,
        /CONTEXT PACK[\s\S]*add\(\) adds/,
        "the inline context pack reached it",
      );
    }
    const synthesis = requests.find((r) => r.userText.includes("TASK: SYNTHESIS"))!;
    assert.match(synthesis.userText, /Rank the findings and recommend fixes/);
    assert.match(synthesis.userText, /^F2 \[high\] add subtracts/m, "the merged findings, not raw answers");
    assert.doesNotMatch(synthesis.userText, /"findings":|sleep 1/);
    const fix = requests.find((r) => r.userText.includes("Fix the top finding") && r.turn === 0)!;
    assert.match(fix.userText, /--- step "merge" ---\nRANKED 2 findings; fix add\(\) first/);
    assert.doesNotMatch(fix.userText, /SCOUT-MAP|"findings":/, "only its own dependency's answer");

    // Recorded like a pattern run: its plan completed, one result, every worker under its step.
    const plan = JSON.parse(readFileSync(join(out.dir, "plan.json"), "utf8")) as {
      steps: { step: string; status: string }[];
    };
    assert.deepEqual(
      plan.steps.map((s) => s.step),
      ["Run scout", "Run review (2 workers)", "Run merge (merges review)", "Run fix"],
    );
    assert.ok(plan.steps.every((s) => s.status === "completed"));
    const record = JSON.parse(readFileSync(join(out.dir, "run.json"), "utf8")) as {
      pattern: string;
      state: string;
      workers: { step: string }[];
    };
    assert.equal(record.pattern, "workflow");
    assert.equal(record.state, "succeeded");
    assert.deepEqual(
      record.workers.map((w) => w.step),
      ["scout", "review", "review", "merge", "fix"],
    );
    assert.equal(readFileSync(join(out.dir, "result.md"), "utf8"), out.markdown);
  });

  test("a failed step stops the steps still running, and the run is marked failed", async () => {
    writeFileSync(
      join(ws.dir, "fails.yaml"),
      "steps:\n  - id: slow\n    task: Take your time\n  - id: boom\n    task: Fail at once\n" +
        "  - id: after\n    task: Never asked\n    depends_on: [slow, boom]\n",
    );
    const started = Date.now();
    const run = await ws.baton(["run", "fails.yaml", "--json"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^baton: step "boom" \(w\d+\) failed: see `baton logs w\d+`$/m);
    assert.ok(Date.now() - started < 50_000, "the slow step was stopped, not waited for");
    assert.ok(
      !ws.model.requests.some((r) => r.userText.includes("Never asked")),
      "its dependent never started",
    );
    const runs = readdirSync(join(ws.home, "runs")).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    const record = JSON.parse(readFileSync(join(ws.home, "runs", runs.at(-1)!, "run.json"), "utf8")) as {
      state: string;
      workers: { id: string; step: string }[];
    };
    assert.equal(record.state, "failed");
    const slow = record.workers.find((w) => w.step === "slow")!;
    const result = await ws.baton(["result", slow.id, "--json"]);
    assert.equal((JSON.parse(result.stdout) as { state: string }).state, "canceled");
  });

  const STEP = "  - id: scout\n    task: Map it\n";
  const INVALID: { what: string; yaml: string; error: RegExp }[] = [
    {
      what: "malformed YAML",
      yaml: `steps:\n${STEP}  - id: review\n    task: Review: it: now\n`,
      error: /^bad\.yaml:5: invalid YAML: /,
    },
    {
      what: "an unknown key, with a guess",
      yaml: `steps:\n${STEP}  - id: review\n    task: Review it\n    depend_on: [scout]\n`,
      error: /^bad\.yaml:6: steps\[1\]: unknown key "depend_on": did you mean "depends_on"\?$/,
    },
    {
      what: "a value of the wrong type",
      yaml: `steps:\n${STEP}  - id: review\n    task: Review it\n    structured: "yes"\n`,
      error: /^bad\.yaml:6: steps\[1\]\.structured: expected true or false, got "yes"$/,
    },
    {
      what: "an unknown dependency",
      yaml: `steps:\n${STEP}  - id: review\n    task: Review it\n  - id: fix\n    task: Fix it\n    depends_on:\n      - scout\n      - reveiw\n`,
      error: /^bad\.yaml:10: steps\[2\]\.depends_on: unknown step "reveiw": did you mean "review"\?$/,
    },
    {
      what: "a cycle",
      yaml: `steps:\n  - id: a\n    task: A\n    depends_on: [c]\n  - id: b\n    task: B\n    depends_on: [a]\n  - id: c\n    task: C\n    depends_on: [b]\n`,
      error: /^bad\.yaml:\d+: steps\[\d\]\.depends_on: a cycle: ([abc]) → [abc] → [abc] → \1 /,
    },
    {
      what: "a duplicate id",
      yaml: `steps:\n${STEP}  - id: scout\n    task: Map it again\n`,
      error: /^bad\.yaml:4: steps\[1\]\.id: duplicate step id "scout": steps\[0\] has it already/,
    },
    {
      what: "write on a reader role",
      yaml: `steps:\n${STEP}  - id: review\n    role: reviewer\n    task: Review it\n    write: [calc.js]\n`,
      error: /^bad\.yaml:7: steps\[1\]\.write: only an implementer may write; a reviewer runs read-only/,
    },
    {
      what: "an empty for_each",
      yaml: `steps:\n${STEP}  - id: review\n    for_each: []\n    task: Review {{item}}\n`,
      error: /^bad\.yaml:5: steps\[1\]\.for_each: must list at least one item$/,
    },
  ];
  for (const { what, yaml, error } of INVALID) {
    test(`a file with ${what} is refused with file:line and what is wrong`, async () => {
      writeFileSync(join(ws.dir, "bad.yaml"), yaml);
      const asked = ws.model.requests.length;
      const run = await ws.baton(["run", "bad.yaml", "--json"]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, "");
      const lines = run.stderr.split("\n").filter(Boolean);
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!.replace(/^baton: /, ""), error);
      assert.equal(ws.model.requests.length, asked, "no worker started");
    });
  }

  test("a cycle is named from the step whose dependency closes it", async () => {
    writeFileSync(
      join(ws.dir, "cycle.yml"),
      "steps:\n  - id: a\n    task: A\n    depends_on: [b]\n  - id: b\n    task: B\n    depends_on: [a]\n",
    );
    const run = await ws.baton(["run", "cycle.yml"]);
    assert.equal(
      run.stderr,
      "baton: cycle.yml:7: steps[1].depends_on: a cycle: b → a → b " +
        "(each step needs the next); break it by removing one of these\n",
    );
  });

  test("pattern names still reach their subcommands; anything else is neither", async () => {
    const review = await ws.baton(["run", "review", "--lens", "security", "--json", "x"]);
    assert.equal(review.code, 2);
    assert.match(review.stderr, /^baton: a triangulated review takes 2 to 4 lenses, got 1/);
    const typo = await ws.baton(["run", "revew", "x"]);
    assert.equal(
      typo.stderr,
      'baton: "revew" is neither a pattern nor a workflow file: did you mean "review"?\n',
    );
    const missing = await ws.baton(["run", "nowhere.yaml"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^baton: nowhere\.yaml: the workflow file does not exist/);
  });
});
