import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FINDINGS_JSON_SCHEMA,
  type Finding,
  formatApa7,
  mergeFindings,
  parseFindings,
  renderFindingsForSynthesis,
  renderMergedMarkdown,
  type Severity,
  type Source,
  type WorkerFindings,
} from "../dist/merge/index.js";

const finding = (
  title: string,
  location: string,
  severity: Severity = "medium",
  evidence = "seen",
): Finding => ({
  title,
  severity,
  location,
  evidence,
  recommendation: `fix ${title.toLowerCase()}`,
});

const worker = (workerId: string, lens: string, ...findings: Finding[]): WorkerFindings => ({
  workerId,
  lens,
  findings,
});

/** What a merged finding must look like; `evidence` is how many pieces it keeps. */
interface Expected {
  readonly title: string;
  readonly severity: Severity;
  readonly lenses: readonly string[];
  readonly workers?: readonly string[];
  readonly evidence: number;
}

interface MergeCase {
  readonly name: string;
  readonly inputs: readonly WorkerFindings[];
  readonly expected: readonly Expected[];
}

const MERGE_CASES: readonly MergeCase[] = [
  {
    name: "the same title from two lenses is one finding seen through both",
    inputs: [
      worker("w1", "security", finding("SQL injection in login query", "src/db.ts:10", "high")),
      worker("w2", "correctness", finding("SQL injection in login query", "src/auth.ts:50", "high")),
    ],
    expected: [
      {
        title: "SQL injection in login query",
        severity: "high",
        lenses: ["correctness", "security"],
        workers: ["w1", "w2"],
        evidence: 2,
      },
    ],
  },
  {
    name: "different wordings at overlapping lines of one file are one finding",
    inputs: [
      worker("w1", "correctness", finding("Unchecked null dereference", "./src/a.ts:12")),
      worker("w2", "risks", finding("Crash when config is absent", "src/a.ts:10-14", "high")),
      worker("w3", "style", finding("Fragile optional access", "SRC/a.ts line 12", "low")),
    ],
    expected: [
      {
        title: "Crash when config is absent",
        severity: "high",
        lenses: ["correctness", "risks", "style"],
        evidence: 3,
      },
    ],
  },
  {
    name: "similar titles at different places are one finding",
    inputs: [
      worker("w1", "risks", finding("Race condition writing PID file", "src/daemon.ts:40")),
      worker("w2", "correctness", finding("PID file write race condition", "src/supervisor.ts:88")),
    ],
    expected: [
      {
        title: "PID file write race condition",
        severity: "medium",
        lenses: ["correctness", "risks"],
        evidence: 2,
      },
    ],
  },
  {
    name: "a title holding all of a three-word title is the same finding",
    inputs: [
      worker("w1", "risks", finding("Stale lock file", "")),
      worker("w2", "correctness", finding("Stale lock file survives a crash and blocks restart", "")),
    ],
    expected: [
      { title: "Stale lock file", severity: "medium", lenses: ["correctness", "risks"], evidence: 2 },
    ],
  },
  {
    name: "a two-word title inside a longer one is not enough",
    inputs: [
      worker("w1", "risks", finding("Lock file", "")),
      worker("w2", "correctness", finding("Stale lock file survives a crash and blocks restart", "")),
    ],
    expected: [
      { title: "Lock file", severity: "medium", lenses: ["risks"], evidence: 1 },
      {
        title: "Stale lock file survives a crash and blocks restart",
        severity: "medium",
        lenses: ["correctness"],
        evidence: 1,
      },
    ],
  },
  {
    name: "the same line in different files is never merged",
    inputs: [
      worker("w1", "correctness", finding("Unchecked null", "src/a.ts:12")),
      worker("w2", "correctness", finding("Leaked file handle", "src/b.ts:12")),
    ],
    expected: [
      { title: "Leaked file handle", severity: "medium", lenses: ["correctness"], evidence: 1 },
      { title: "Unchecked null", severity: "medium", lenses: ["correctness"], evidence: 1 },
    ],
  },
  {
    name: "empty and whole-file locations never merge by place",
    inputs: [
      worker("w1", "clarity", finding("Vague naming", ""), finding("Dead export", "src/a.ts")),
      worker("w2", "style", finding("Long lines", ""), finding("Mixed quotes", "src/a.ts")),
    ],
    expected: [
      { title: "Dead export", severity: "medium", lenses: ["clarity"], evidence: 1 },
      { title: "Long lines", severity: "medium", lenses: ["style"], evidence: 1 },
      { title: "Mixed quotes", severity: "medium", lenses: ["style"], evidence: 1 },
      { title: "Vague naming", severity: "medium", lenses: ["clarity"], evidence: 1 },
    ],
  },
  {
    name: "grouping is transitive: a place link and a title link join three findings",
    inputs: [
      worker("w1", "security", finding("Token leaks into logs", "src/log.ts:5")),
      worker("w2", "risks", finding("API key printed in logs", "src/log.ts:5-7")),
      worker("w3", "correctness", finding("API key printed in logs on failure", "src/cli.ts:40")),
      worker("w4", "style", finding("Inconsistent quote style", "src/cli.ts:90")),
    ],
    expected: [
      {
        title: "API key printed in logs",
        severity: "medium",
        lenses: ["correctness", "risks", "security"],
        workers: ["w1", "w2", "w3"],
        evidence: 3,
      },
      { title: "Inconsistent quote style", severity: "medium", lenses: ["style"], evidence: 1 },
    ],
  },
  {
    name: "findings rank by severity, and a group takes its highest severity",
    inputs: [
      worker(
        "w1",
        "risks",
        finding("Typo in help text", "src/cli.ts:1", "low"),
        finding("Data loss on crash", "src/store.ts:9", "critical"),
        finding("Slow start", "src/main.ts:3", "medium"),
        finding("Unbounded memory growth", "src/queue.ts:20", "info"),
        finding("Missing timeout on spawn", "src/spawn.ts:7", "high"),
      ),
      worker("w2", "correctness", finding("Unbounded memory growth", "src/queue.ts:20", "high")),
    ],
    expected: [
      { title: "Data loss on crash", severity: "critical", lenses: ["risks"], evidence: 1 },
      { title: "Unbounded memory growth", severity: "high", lenses: ["correctness", "risks"], evidence: 2 },
      { title: "Missing timeout on spawn", severity: "high", lenses: ["risks"], evidence: 1 },
      { title: "Slow start", severity: "medium", lenses: ["risks"], evidence: 1 },
      { title: "Typo in help text", severity: "low", lenses: ["risks"], evidence: 1 },
    ],
  },
  {
    name: "at equal severity more lenses beat more workers, and more workers beat the title",
    inputs: [
      worker(
        "w1",
        "security",
        finding("Zombie children", "src/p.ts:1", "high"),
        finding("Alpha", "x.ts:1", "high"),
      ),
      worker("w2", "correctness", finding("Zombie children", "src/p.ts:1", "high")),
      worker("w3", "security", finding("Busy loop", "src/q.ts:5", "high")),
      worker("w4", "security", finding("Busy loop", "src/q.ts:5", "high")),
      worker("w5", "security", finding("Busy loop", "src/q.ts:5", "high")),
    ],
    expected: [
      { title: "Zombie children", severity: "high", lenses: ["correctness", "security"], evidence: 2 },
      {
        title: "Busy loop",
        severity: "high",
        lenses: ["security"],
        workers: ["w3", "w4", "w5"],
        evidence: 3,
      },
      { title: "Alpha", severity: "high", lenses: ["security"], evidence: 1 },
    ],
  },
  {
    name: "every piece of evidence is kept, even identical ones",
    inputs: [
      worker("w1", "security", finding("Shell injection", "src/run.ts:3", "high", "same words")),
      worker("w2", "security", finding("Shell injection", "src/run.ts:3", "high", "same words")),
      worker("w3", "risks", finding("Shell injection", "src/run.ts:3", "high", "")),
    ],
    expected: [{ title: "Shell injection", severity: "high", lenses: ["risks", "security"], evidence: 3 }],
  },
];

describe("mergeFindings", () => {
  for (const { name, inputs, expected } of MERGE_CASES) {
    test(name, () => {
      const merged = mergeFindings(inputs);
      const actual = merged.map((item, index) => ({
        title: item.title,
        severity: item.severity,
        lenses: item.lenses,
        ...(expected[index]?.workers && { workers: item.workers }),
        evidence: item.evidence.length,
      }));
      assert.deepEqual(actual, expected);
      const total = inputs.reduce((sum, input) => sum + input.findings.length, 0);
      assert.equal(
        merged.reduce((sum, item) => sum + item.evidence.length, 0),
        total,
        "no evidence is lost",
      );
      assert.deepEqual(mergeFindings([...inputs].reverse()), merged, "input order does not matter");
    });
  }

  test("every rotation and reversal of the workers gives the same list", () => {
    const inputs = MERGE_CASES.flatMap((c, at) =>
      c.inputs.map((input) => ({ ...input, workerId: `c${at}-${input.workerId}` })),
    );
    const reference = mergeFindings(inputs);
    for (let turn = 0; turn < inputs.length; turn++) {
      const rotated = [...inputs.slice(turn), ...inputs.slice(0, turn)];
      assert.deepEqual(mergeFindings(rotated), reference, `rotation ${turn}`);
      assert.deepEqual(mergeFindings(rotated.reverse()), reference, `reversed rotation ${turn}`);
    }
  });

  test("evidence keeps its worker and lens; recommendations and sources are distinct", () => {
    const source: Source = { title: "Paper", url: "https://example.org/p" };
    const [merged] = mergeFindings([
      worker("w2", "correctness", { ...finding("Leak", "a.ts:1"), sources: [source] }),
      worker("w1", "security", {
        ...finding("Leak", "a.ts:1"),
        sources: [{ ...source, url: "http://www.example.org/p/", year: "2020" }],
      }),
    ]);
    assert.deepEqual(merged?.evidence, [
      { workerId: "w1", lens: "security", text: "seen" },
      { workerId: "w2", lens: "correctness", text: "seen" },
    ]);
    assert.deepEqual(merged?.recommendations, ["fix leak"]);
    assert.deepEqual(merged?.locations, ["a.ts:1"]);
    assert.deepEqual(merged?.sources, [{ title: "Paper", url: "http://www.example.org/p/", year: "2020" }]);
  });
});

const WELL_FORMED = {
  summary: "Looked at the store.",
  findings: [
    {
      title: "Torn write",
      severity: "high",
      location: "src/store.ts:10",
      evidence: "no fsync",
      recommendation: "write then rename",
      sources: [{ title: "Crash consistency", url: null, authors: "", year: "2014" }],
    },
  ],
};

const withFinding = (patch: Record<string, unknown>) => ({
  ...WELL_FORMED,
  findings: [{ ...WELL_FORMED.findings[0], ...patch }],
});

interface ParseCase {
  readonly name: string;
  readonly answer: string;
  /** What the one finding must look like, or the error the answer must get. */
  readonly expected: { readonly severity: Severity } | { readonly error: RegExp };
}

const PARSE_CASES: readonly ParseCase[] = [
  { name: "bare JSON", answer: JSON.stringify(WELL_FORMED), expected: { severity: "high" } },
  {
    name: "JSON in a ```json fence with whitespace around it",
    answer: `\n  \`\`\`json\n${JSON.stringify(WELL_FORMED, null, 2)}\n\`\`\`\n\n`,
    expected: { severity: "high" },
  },
  {
    name: "severity in any case",
    answer: JSON.stringify(withFinding({ severity: " High" })),
    expected: { severity: "high" },
  },
  {
    name: "not JSON at all",
    answer: "Here are my findings: none.",
    expected: { error: /^the answer is not JSON: / },
  },
  { name: "an empty answer", answer: "  \n", expected: { error: /^the answer is empty/ } },
  {
    name: "prose around the fence",
    answer: `Sure!\n\`\`\`json\n${JSON.stringify(WELL_FORMED)}\n\`\`\``,
    expected: { error: /^the answer is not JSON/ },
  },
  {
    name: "a severity that is not one of the five",
    answer: JSON.stringify({
      findings: [finding("a", ""), finding("b", ""), { ...finding("c", ""), severity: "urgent" }],
    }),
    expected: { error: /^findings\[2\]\.severity: expected one of critical\|high\|medium\|low\|info$/ },
  },
  {
    name: "a missing field",
    answer: JSON.stringify(withFinding({ evidence: undefined })),
    expected: { error: /^findings\[0\]\.evidence: missing$/ },
  },
  {
    name: "a field of the wrong type",
    answer: JSON.stringify(withFinding({ location: 12 })),
    expected: { error: /^findings\[0\]\.location: expected string, got number$/ },
  },
  {
    name: "findings that are not a list",
    answer: JSON.stringify({ summary: "", findings: {} }),
    expected: { error: /^findings: expected array, got object$/ },
  },
  {
    name: "a list instead of an object",
    answer: "[]",
    expected: { error: /^answer: expected object, got array$/ },
  },
];

describe("parseFindings", () => {
  for (const { name, answer, expected } of PARSE_CASES) {
    test(name, () => {
      const parsed = parseFindings(answer);
      if ("error" in expected) {
        assert.equal(parsed.ok, false, "rejected");
        const error = parsed.ok ? "" : parsed.error;
        assert.match(error, expected.error);
        assert.doesNotMatch(error, /\n/, "one line");
        return;
      }
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
      assert.equal(parsed.summary, "Looked at the store.");
      assert.equal(parsed.findings.length, 1);
      assert.equal(parsed.findings[0]?.severity, expected.severity);
      assert.deepEqual(parsed.findings[0]?.sources, [{ title: "Crash consistency", year: "2014" }]);
    });
  }
});

interface ApaCase {
  readonly name: string;
  readonly source: Source;
  readonly expected: string;
}

const APA_CASES: readonly ApaCase[] = [
  {
    name: "authors, year, title and URL",
    source: {
      title: "Time, clocks, and the ordering of events in a distributed system",
      authors: "Lamport, L.",
      year: "1978",
      url: "https://doi.org/10.1145/359545.359563",
    },
    expected:
      "Lamport, L. (1978). Time, clocks, and the ordering of events in a distributed system. https://doi.org/10.1145/359545.359563",
  },
  {
    name: "no year says n.d.",
    source: { title: "Structured outputs", authors: "OpenAI", url: "https://platform.openai.com/docs" },
    expected: "OpenAI. (n.d.). Structured outputs. https://platform.openai.com/docs",
  },
  {
    name: "no authors puts the title first",
    source: { title: "Node.js test runner", year: "2024", url: "https://nodejs.org/api/test.html" },
    expected: "Node.js test runner. (2024). https://nodejs.org/api/test.html",
  },
  {
    name: "title alone",
    source: { title: "Why do computers stop?" },
    expected: "Why do computers stop? (n.d.).",
  },
];

describe("formatApa7", () => {
  for (const { name, source, expected } of APA_CASES) {
    test(name, () => assert.equal(formatApa7(source), expected));
  }
});

describe("rendering", () => {
  const merged = mergeFindings([
    worker("w1", "security", finding("Shell injection", "src/run.ts:3", "high", "line one\nline two")),
    worker("w2", "correctness", finding("Shell injection", "src/run.ts:3-4", "medium", "raw exec")),
    worker("w3", "style", finding("Long function", "src/run.ts:90", "low")),
  ]);

  test("Markdown is a ranked list with evidence and recommendations under each item", () => {
    const markdown = renderMergedMarkdown(merged, { title: "Review" });
    assert.equal(
      markdown,
      [
        "# Review",
        "",
        "1. [HIGH] Shell injection — src/run.ts:3, src/run.ts:3-4 (lenses: correctness, security; 2 of 3 reviewers)",
        "   - Evidence (security, w1): line one",
        "     line two",
        "   - Evidence (correctness, w2): raw exec",
        "   - Recommendation: fix shell injection",
        "2. [LOW] Long function — src/run.ts:90 (lens: style; 1 of 3 reviewers)",
        "   - Evidence (style, w3): seen",
        "   - Recommendation: fix long function",
        "",
      ].join("\n"),
    );
    assert.equal(renderMergedMarkdown([]), "No findings.\n");
  });

  test("the synthesis text holds the merged findings, each piece of evidence on one line", () => {
    const text = renderFindingsForSynthesis(merged);
    assert.match(text, /^2 merged findings/);
    assert.match(text, /F1 \[high\] Shell injection\n {2}where: src\/run\.ts:3; src\/run\.ts:3-4\n/);
    assert.match(text, / {2}- security\/w1: line one line two\n/);
    assert.match(text, /F2 \[low\] Long function/);
    const clipped = renderFindingsForSynthesis(
      mergeFindings([worker("w1", "x", finding("Big", "", "low", "y".repeat(50)))]),
      { maxEvidenceChars: 10 },
    );
    assert.match(clipped, /x\/w1: y{9}…\n/);
  });
});

describe("FINDINGS_JSON_SCHEMA", () => {
  test("every object lists all its properties as required and allows no others (strict outputs)", () => {
    const objects: Record<string, unknown>[] = [];
    const walk = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      const record = node as Record<string, unknown>;
      if (record.type === "object") objects.push(record);
      for (const value of Object.values(record)) walk(value);
    };
    walk(FINDINGS_JSON_SCHEMA);
    assert.equal(objects.length, 3, "answer, finding, source");
    for (const object of objects) {
      assert.equal(object.additionalProperties, false);
      assert.deepEqual(
        [...(object.required as string[])].sort(),
        Object.keys(object.properties as object).sort(),
      );
    }
    const parsed = parseFindings(JSON.stringify(WELL_FORMED));
    assert.ok(parsed.ok, "an answer shaped by the schema parses");
  });
});
