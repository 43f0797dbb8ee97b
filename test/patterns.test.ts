import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { Workspace } from "./support/harness.ts";

// Every pattern end to end: real codex workers, a scripted model that answers each kind of worker
// from what its prompt asks, duplicates and malformed answers included.

const finding = (title: string, severity: string, location: string, sources: unknown[] = []) => ({
  title,
  severity,
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title.toLowerCase()}`,
  sources,
});
const json = (value: unknown): ScriptStep => ({ type: "message", text: JSON.stringify(value) });
const say = (text: string): ScriptStep => ({ type: "message", text });

const REVIEWS: Record<string, unknown> = {
  Security: { summary: "s", findings: [finding("Unvalidated input reaches eval", "critical", "calc.js:3")] },
  "Correctness/completeness": {
    summary: "c",
    findings: [
      finding("User input is passed to eval", "high", "calc.js:3-4"),
      finding("add subtracts instead of adding", "high", "calc.js:1"),
    ],
  },
  "Risks/failure modes": { summary: "r", findings: [finding("No tests cover add", "low", "")] },
};

function model(request: ModelRequest): ScriptStep | ScriptStep[] {
  const text = request.userText;
  if (text.includes("TASK: SYNTHESIS")) return synthesis(request);
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim();
  if (lens === "Clarity/structure") return say("this is NOT JSON AT ALL"); // malformed, twice
  if (lens === "Risks/failure modes" && !text.includes("YOUR PREVIOUS ANSWER WAS REJECTED")) {
    return say("```json\n{ broken"); // malformed once, then fine
  }
  if (lens && REVIEWS[lens]) return json(REVIEWS[lens]);
  if (text.includes("Fix these issues")) return implementer(request);
  if (text.includes("Verify that these issues are fixed")) return verifier(request);
  if (text.includes("Gather the minimum context"))
    return say("calc.js holds add(); it subtracts. check.cjs checks it.");
  if (text.includes("Verify the change meets the goal"))
    return json({ pass: true, summary: "add adds", issues: [] });
  if (text.includes("Add an add() that adds")) return implementer(request);
  if (text.includes("YOUR SECTION"))
    return say(`section report for ${/YOUR SECTION[^:]*: (.+)/.exec(text)?.[1]}`);
  if (text.includes("Your sub-question")) {
    const q = /Your sub-question: (.+)/.exec(text)?.[1] ?? "";
    const source = {
      title: `Paper on ${q}`,
      url: `https://example.org/${q}`,
      authors: "Doe, J.",
      year: "2024",
    };
    return json({ summary: q, findings: [finding(`Claim about ${q}`, "medium", "", [source])] });
  }
  const option = /Propose option ([ABC])/.exec(text)?.[1];
  if (option) return say(`Option ${option}: plan ${option.toLowerCase()}`);
  return say("unexpected prompt");
}

function synthesis(request: ModelRequest): ScriptStep {
  const text = request.userText;
  if (text.includes("merged review findings")) {
    return say(`RECOMMENDATIONS from ${(text.match(/^F\d+ \[/gm) ?? []).length} merged findings`);
  }
  if (text.includes("Condense the scout's report")) {
    return json({
      goal: "add() adds",
      non_goals: ["rewrite the file"],
      constraints: [],
      pointers: ["calc.js", "missing.js"],
      prior_decisions: [],
      success_check: "node check.cjs prints CHECK OK",
    });
  }
  if (text.includes("Merge the section results"))
    return say(`MERGED ${(text.match(/section report for/g) ?? []).length} sections`);
  if (text.includes("decision-ready brief")) return say("BRIEF: adopt it (Doe, 2024).");
  if (text.includes("Choose the best option"))
    return json({ choice: "B", reason: "B is simplest", refined: "plan b, refined" });
  return say("unexpected synthesis");
}

/** Round 1 breaks add() another way; a round that was told it was rejected fixes it. */
function implementer(request: ModelRequest): ScriptStep {
  const retry = request.userText.includes("rejected the previous attempt");
  if (request.turn === 0) {
    const source = readFileSync(join(project, "calc.js"), "utf8").split("\n")[0];
    const target = retry || request.userText.includes("Add an add() that adds") ? "a + b" : "a * b";
    return {
      type: "patch",
      patch: `*** Begin Patch\n*** Update File: calc.js\n@@\n-${source}\n+export const add = (a, b) => ${target};\n*** End Patch`,
    };
  }
  return say(retry ? "attempt 2: add() now adds" : "attempt 1: changed add()");
}

/** The verifier really runs the check, and judges by its output. */
function verifier(request: ModelRequest): ScriptStep {
  if (request.turn === 0) return { type: "shell", command: "node check.cjs" };
  const ok = (request.lastToolOutput ?? "").includes("CHECK OK");
  return json({
    pass: ok,
    summary: ok ? "check passes" : "check fails",
    issues: ok ? [] : ["add() still wrong"],
  });
}

let project = "";

interface RunJson {
  run: string;
  dir: string;
  markdown: string;
  result: Record<string, unknown>;
}

describe("orchestration patterns, end to end", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(model);
    project = ws.dir;
    writeFileSync(join(project, "calc.js"), "export const add = (a, b) => a - b;\n// eval(input)\n");
    writeFileSync(
      join(project, "check.cjs"),
      "const s = require('fs').readFileSync('calc.js', 'utf8');\nconsole.log(s.includes('a + b') ? 'CHECK OK' : 'CHECK FAILED');\n",
    );
  });
  after(() => ws.cleanup());

  const run = async (args: string[]): Promise<RunJson> =>
    JSON.parse(await ws.ok(["run", ...args, "--json"])) as RunJson;

  test("review: duplicates merged, ranked, malformed answers retried once then reported", async () => {
    const out = await run([
      "review",
      "--lens",
      "security",
      "--lens",
      "correctness",
      "--lens",
      "risks",
      "--lens",
      "clarity",
      "Review calc.js",
    ]);
    const findings = out.result.findings as {
      title: string;
      severity: string;
      lenses: string[];
      evidence: unknown[];
    }[];
    assert.equal(findings.length, 3, JSON.stringify(findings.map((f) => f.title)));
    assert.equal(findings[0]!.severity, "critical");
    assert.deepEqual(
      findings[0]!.lenses,
      ["correctness", "security"],
      "the eval finding was seen by two lenses",
    );
    assert.equal(findings[0]!.evidence.length, 2, "both pieces of evidence kept");
    assert.equal(findings.at(-1)!.severity, "low", "the recovered risks reviewer's finding is in");
    const invalid = out.result.invalid as { lens: string }[];
    assert.deepEqual(
      invalid.map((i) => i.lens),
      ["clarity"],
    );
    assert.match(out.markdown, /RECOMMENDATIONS from 3 merged findings/);
    assert.doesNotMatch(out.markdown, /NOT JSON AT ALL/, "a malformed answer is never forwarded");
    // The synthesis worker got the merged findings only: no raw answers, no transcripts.
    const synth = ws.model.requests.find((r) => r.userText.includes("merged review findings"))!;
    assert.doesNotMatch(synth.userText, /NOT JSON AT ALL|thread\.started|"findings":/);
    // Reviewers were asked for structured output.
    const reviewer = ws.model.requests.find((r) => r.userText.includes("LENS: Security"))!;
    assert.match(JSON.stringify(reviewer.body.text ?? {}), /findings/);
    const plan = JSON.parse(readFileSync(join(out.dir, "plan.json"), "utf8")) as {
      steps: { status: string }[];
    };
    assert.ok(plan.steps.every((s) => s.status === "completed"));
    assert.match(readFileSync(join(out.dir, "result.md"), "utf8"), /Findings, ranked/);
  });

  test("fix: review, fix, verify, and loop while the verifier fails", async () => {
    writeFileSync(join(project, "calc.js"), "export const add = (a, b) => a - b;\n");
    const out = await run([
      "fix",
      "--top",
      "1",
      "--check",
      "node check.cjs",
      "--max-rounds",
      "3",
      "Fix add() in calc.js",
    ]);
    assert.equal(out.result.passed, true);
    assert.equal(
      (out.result.rounds as unknown[]).length,
      2,
      "the first fix failed verification, the second passed",
    );
    assert.match(readFileSync(join(project, "calc.js"), "utf8"), /a \+ b/);
    assert.match(out.markdown, /Verdict: PASS after 2 rounds/);
  });

  test("scout: scout, condense into a context pack, implement, verify", async () => {
    writeFileSync(join(project, "calc.js"), "export const add = (a, b) => a - b;\n");
    const out = await run(["scout", "Add an add() that adds"]);
    assert.equal(out.result.passed, true);
    const pack = out.result.contextPack as { pointers: string[]; goal: string };
    assert.deepEqual(pack.pointers, ["calc.js"], "a pointer that does not exist is dropped");
    const implementer = ws.model.requests.find(
      (r) => r.userText.includes("Add an add() that adds") && r.userText.includes("CONTEXT PACK"),
    );
    assert.ok(implementer, "the implementer got the condensed context pack");
    assert.match(readFileSync(join(project, "calc.js"), "utf8"), /a \+ b/);
  });

  test("sections: one worker per slice in parallel, then a merge", async () => {
    const out = await run([
      "sections",
      "--section",
      "intro",
      "--section",
      "usage",
      "--section",
      "faq",
      "Tighten the docs",
    ]);
    assert.match(out.markdown, /MERGED 3 sections/);
    assert.equal((out.result.sections as unknown[]).length, 3);
  });

  test("research: parallel researchers, one brief with APA 7 references", async () => {
    const out = await run([
      "research",
      "--question",
      "speed",
      "--question",
      "cost",
      "--scholarly",
      "Should we adopt X?",
    ]);
    assert.match(out.markdown, /BRIEF: adopt it/);
    assert.match(
      out.markdown,
      /## References\n- Doe, J\. \(2024\)\. Paper on cost\. https:\/\/example\.org\/cost/,
    );
    assert.equal((out.result.sources as unknown[]).length, 2);
  });

  test("options: alternatives drafted, one selected and refined with the reason", async () => {
    const out = await run(["options", "--count", "3", "Plan the migration"]);
    assert.equal(out.result.choice, "B");
    assert.match(out.markdown, /Selected: option B\n\nWhy: B is simplest/);
    assert.equal((out.result.options as unknown[]).length, 3);
  });

  test("bad pattern input gets a one-line error", async () => {
    const one = await ws.baton(["run", "review", "--lens", "security", "x"]);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /^baton: a triangulated review takes 2 to 4 lenses, got 1/);
    const lens = await ws.baton(["run", "review", "--lens", "vibes", "x"]);
    assert.match(lens.stderr, /^baton: --lens "vibes" is not a lens: choose from clarity, correctness/);
    const pointer = await ws.baton(["run", "review", "--pointer", "nope.ts", "x"]);
    assert.match(pointer.stderr, /pointer "nope.ts" does not exist/);
  });
});
