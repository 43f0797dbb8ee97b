import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelRequest } from "../dist/scripted-model/index.js";
import type { Workspace } from "./support/harness.ts";
import { MixedWorkspace, type Reply } from "./support/mixed.ts";

// The cross-model triangulated review: one `baton run review` whose lenses run on codex, Claude Code
// and the Gemini CLI (each the real CLI against its scripted server), merged into one ranked list that
// says which backend and model found each finding.

const finding = (title: string, severity: string, location: string) => ({
  title,
  severity,
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title.toLowerCase()}`,
  sources: [],
});

const REVIEWS: Record<string, unknown> = {
  "Correctness/completeness": {
    summary: "c",
    findings: [
      finding("User input reaches eval", "high", "calc.js:2"),
      finding("add subtracts instead of adding", "high", "calc.js:1"),
    ],
  },
  Security: { summary: "s", findings: [finding("Unvalidated input reaches eval", "critical", "calc.js:2")] },
  Performance: {
    summary: "p",
    findings: [finding("add is recomputed in a hot loop", "low", "calc.js:5")],
  },
};

function reply(request: ModelRequest): Reply {
  const text = request.userText;
  if (text.includes("TASK: SYNTHESIS")) {
    return { text: `MIXED RECOMMENDATIONS from ${(text.match(/^F\d+ \[/gm) ?? []).length} findings` };
  }
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim();
  if (lens && REVIEWS[lens]) return { json: REVIEWS[lens] };
  return { text: "unexpected prompt" };
}

interface Evidence {
  workerId: string;
  lens: string;
  backend?: string;
  model?: string;
}
interface RunJson {
  dir: string;
  markdown: string;
  workers: { id: string; label: string; backend?: string; model?: string }[];
  result: {
    findings: { title: string; lenses: string[]; backends: string[]; evidence: Evidence[] }[];
    reviewers: { lens: string; worker: string; backend?: string; model?: string }[];
  };
}

describe("a review with its lenses on codex, claude and gemini", () => {
  let mixed: MixedWorkspace;
  let ws: Workspace;
  before(async () => {
    mixed = await MixedWorkspace.create(reply);
    ws = mixed.ws;
    writeFileSync(join(ws.dir, "calc.js"), "export const add = (a, b) => a - b;\n// eval(input)\n");
  });
  after(() => mixed.cleanup());

  test("runs end to end, and each merged finding names the backend and model that found it", async () => {
    const out = JSON.parse(
      await ws.ok([
        "run",
        "review",
        "--lens",
        "correctness",
        "--lens",
        "security=claude:claude-sonnet-4-5",
        "--lens",
        "performance=gemini",
        "Review calc.js",
        "--json",
      ]),
    ) as RunJson;

    // Each lens reached its own backend's server, and only that one.
    const asked = (lens: string) => mixed.requestsWith(`LENS: ${lens}`);
    assert.equal(asked("Correctness/completeness").codex.length, 1);
    assert.equal(
      asked("Correctness/completeness").claude.length + asked("Correctness/completeness").gemini.length,
      0,
    );
    const security = asked("Security");
    assert.deepEqual([security.codex.length, security.gemini.length], [0, 0]);
    assert.equal(security.claude[0]?.body.model, "claude-sonnet-4-5", "the lens's own model");
    const performance = asked("Performance");
    assert.deepEqual([performance.codex.length, performance.claude.length], [0, 0]);
    assert.ok(performance.gemini.length > 0);
    // The synthesis worker ran on the run's backend (codex), with the merged findings only.
    assert.equal(mixed.requestsWith("TASK: SYNTHESIS").codex.length, 1);

    // The run's result and record name each worker's backend.
    const byLabel = new Map(out.workers.map((w) => [w.label, w]));
    assert.equal(byLabel.get("review-correctness")?.backend, "codex");
    assert.deepEqual(
      { backend: byLabel.get("review-security")?.backend, model: byLabel.get("review-security")?.model },
      { backend: "claude", model: "claude-sonnet-4-5" },
    );
    assert.deepEqual(
      {
        backend: byLabel.get("review-performance")?.backend,
        model: byLabel.get("review-performance")?.model,
      },
      { backend: "gemini", model: "gemini-2.5-pro" },
      "gemini's model is the one Baton asks for when given none",
    );
    assert.equal(byLabel.get("synthesis")?.backend, "codex");
    // The model is the one each agent reported it ran, as `result --json` has it.
    for (const label of ["review-correctness", "review-security", "review-performance"]) {
      const worker = byLabel.get(label)!;
      const result = await ws.json<{ model?: string }>(["result", worker.id]);
      assert.equal(worker.model, result.model ?? worker.model, `${label}: the model its agent reported`);
    }
    assert.deepEqual(mixed.runRecord(out.dir).workers, out.workers, "run.json keeps the same");

    // The eval finding was seen by two lenses on two backends: merged, ranked first, both named.
    const [top, ...rest] = out.result.findings;
    assert.ok(top);
    assert.deepEqual(top.lenses, ["correctness", "security"]);
    assert.deepEqual(top.backends, ["claude", "codex"]);
    const security1 = top.evidence.find((e) => e.lens === "security");
    assert.deepEqual(
      { backend: security1?.backend, model: security1?.model },
      { backend: "claude", model: "claude-sonnet-4-5" },
    );
    assert.equal(top.evidence.find((e) => e.lens === "correctness")?.backend, "codex");
    const slow = rest.find((f) => f.title.includes("hot loop"));
    assert.deepEqual(slow?.backends, ["gemini"]);
    assert.equal(slow?.evidence[0]?.model, "gemini-2.5-pro");
    assert.deepEqual(
      out.result.reviewers.map((r) => `${r.lens}:${r.backend}`),
      ["correctness:codex", "security:claude", "performance:gemini"],
    );

    // The same in the markdown, for people.
    const security2 = byLabel.get("review-security")!.id;
    assert.match(
      out.markdown,
      /^1\. \[CRITICAL\] Unvalidated input reaches eval — calc\.js:2 \(lenses: correctness, security; 2 of 3 reviewers; backends: claude, codex\)$/m,
    );
    assert.match(
      out.markdown,
      new RegExp(`Evidence \\(security, ${security2}, claude claude-sonnet-4-5\\): seen`),
    );
    assert.match(out.markdown, /Evidence \(performance, w\d+, gemini gemini-2\.5-pro\): seen at calc\.js:5/);
    assert.match(out.markdown, /MIXED RECOMMENDATIONS from 3 findings/);
    assert.match(
      out.markdown,
      /^Reviewers: correctness \(w\d+, codex(?: [^;)]+)?\); security \(w\d+, claude claude-sonnet-4-5\); performance \(w\d+, gemini gemini-2\.5-pro\)$/m,
    );
  });

  test("one lens through two models: the same lens on claude and on gemini, both kept", async () => {
    const out = JSON.parse(
      await ws.ok([
        "run",
        "review",
        "--lens",
        "security=claude",
        "--lens",
        "security=gemini",
        "Review calc.js",
        "--json",
      ]),
    ) as RunJson;
    assert.deepEqual(out.workers.map((w) => `${w.label}:${w.backend}`).sort(), [
      "review-security-claude:claude",
      "review-security-gemini:gemini",
      "synthesis:codex",
    ]);
    const [top] = out.result.findings;
    assert.deepEqual(top?.lenses, ["security"]);
    assert.deepEqual(top?.backends, ["claude", "gemini"], "agreement across two models");
    assert.match(out.markdown, /\(lens: security; 2 of 2 reviewers; backends: claude, gemini\)/);
  });
});
