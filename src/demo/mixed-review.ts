import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Baton } from "../client/baton.js";
import { progressPrinter, runPattern } from "../pattern/index.js";
import type { PatternOutcome } from "../pattern/run-pattern.js";
import {
  type MessagesStep,
  type ModelRequest,
  type ScriptedGemini,
  type ScriptedMessages,
  type ScriptStep,
  startScriptedGemini,
  startScriptedMessages,
} from "../scripted-model/index.js";

// The demo's second part: a triangulated review whose lenses run on three agents, codex, Claude Code
// and the Gemini CLI, each the real CLI (the project's devDependencies) against its own scripted
// server on loopback, the same servers the tests use. One bug is found by all three.

/** Where `npm install` puts the Claude Code and Gemini CLI binaries of this checkout. */
export function bundledAgents(root: string): { claude: string; gemini: string } | undefined {
  const claude = join(root, "node_modules/@anthropic-ai/claude-code/bin/claude.exe");
  const gemini = join(root, "node_modules/@google/gemini-cli/bundle/gemini.js");
  return existsSync(claude) && existsSync(gemini) ? { claude, gemini } : undefined;
}

const finding = (title: string, severity: string, location: string, evidence: string, fix: string) => ({
  title,
  severity,
  location,
  evidence,
  recommendation: fix,
  sources: [],
});

const SUBTRACTS = "add returns a - b";
const REVIEWS: Readonly<Record<string, unknown>> = {
  "Correctness/completeness": {
    summary: "add is wrong; multiply is right.",
    findings: [
      finding(SUBTRACTS, "high", "calc.js:3", "`return a - b;`: add(2, 3) is -1", "return a + b"),
      finding("No tests", "low", "calc.js", "no test file or script", "add a one-line check of add"),
    ],
  },
  Security: {
    summary: "Nothing reaches a shell or eval; one wrong result.",
    findings: [
      finding(SUBTRACTS, "medium", "calc.js:3", "a wrong sum can corrupt totals downstream", "fix add"),
      finding("Arguments are not checked", "low", "calc.js", "add('2', 3) gives -1 silently", "check types"),
    ],
  },
  Performance: {
    summary: "Both functions are O(1); the only issue is a wrong answer.",
    findings: [finding(SUBTRACTS, "high", "calc.js:3", "the README says add(2, 3) gives -1", "return a + b")],
  },
};

/** What a reviewer of the demo's review answers: its lens's findings, as JSON. */
function reviewAnswer(request: ModelRequest): string | undefined {
  const lens = /LENS: (.+)/.exec(request.userText)?.[1]?.trim();
  return lens && REVIEWS[lens] ? JSON.stringify(REVIEWS[lens]) : undefined;
}

/** The codex model's answer to the review's workers (its reviewer and the synthesis worker). */
export function codexReviewStep(request: ModelRequest): ScriptStep | undefined {
  const review = reviewAnswer(request);
  if (review) return { type: "message", text: review, usage: { input_tokens: 2410, output_tokens: 180 } };
  if (!request.userText.includes("TASK: SYNTHESIS")) return undefined;
  return {
    type: "message",
    text: [
      "Three reviewers on three models agree on one real bug: `add` subtracts (calc.js:3).",
      "1. Fix `add` to return `a + b`; every lens found it.",
      "2. Add a one-line check so it cannot come back.",
      'Next step: `baton run fix --check "node -e ..." --write calc.js`.',
    ].join("\n"),
    usage: { input_tokens: 1830, output_tokens: 95 },
  };
}

/** Claude Code answers a schema through its StructuredOutput tool, then says it is done. */
function claudeStep(request: ModelRequest): MessagesStep {
  if (request.toolOutputs.length > 0) return { type: "message", text: "done" };
  const review = reviewAnswer(request);
  return review
    ? { type: "tool", name: "StructuredOutput", input: JSON.parse(review) as Record<string, unknown> }
    : { type: "message", text: "nothing to add" };
}

function geminiStep(request: ModelRequest): ScriptStep {
  return { type: "message", text: reviewAnswer(request) ?? "nothing to add" };
}

/** The Claude Code and Gemini CLI servers, and the variables that point workers at them. */
export interface AgentServers {
  readonly claude: ScriptedMessages;
  readonly gemini: ScriptedGemini;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export async function startAgentServers(bins: { claude: string; gemini: string }): Promise<AgentServers> {
  const claude = await startScriptedMessages({ script: claudeStep });
  const gemini = await startScriptedGemini({ script: geminiStep }).catch(async (error: unknown) => {
    await claude.close();
    throw error;
  });
  return {
    claude,
    gemini,
    // Each backend finds its own binary by its own variable, so one run can use all three.
    env: { ...claude.env(), ...gemini.env(), BATON_CLAUDE_BIN: bins.claude, BATON_GEMINI_BIN: bins.gemini },
    close: async () => {
      await Promise.all([claude.close(), gemini.close()]);
    },
  };
}

/** `baton run review --lens correctness --lens security=claude --lens performance=gemini`, as a library call. */
export function mixedReview(
  baton: Baton,
  project: string,
  codexBin: string | undefined,
  signal: AbortSignal,
): Promise<PatternOutcome> {
  return runPattern(
    baton,
    "review",
    {
      task: "Review calc.js before the next release",
      lenses: ["correctness", "security", "performance"],
      agents: [null, { backend: "claude" }, { backend: "gemini" }],
    },
    {
      cwd: project,
      backend: "codex",
      timeoutSeconds: 120,
      ...(codexBin ? { bins: { codex: codexBin } } : {}),
      signal,
      onEvent: progressPrinter(process.stdout),
    },
  );
}
