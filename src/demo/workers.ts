import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SpawnOptions } from "../client/baton.js";
import { directiveScript, modelScriptLine, type Script, type ScriptStep } from "../scripted-model/index.js";
import { codexReviewStep } from "./mixed-review.js";

/** A project small enough to read at a glance, with one bug every worker can agree on. */
const SAMPLE_FILES: Readonly<Record<string, string>> = {
  "calc.js": [
    "// A tiny calculator.",
    "function add(a, b) {",
    "  return a - b;",
    "}",
    "",
    "function multiply(a, b) {",
    "  return a * b;",
    "}",
    "",
    "module.exports = { add, multiply };",
    "",
  ].join("\n"),
  "README.md": [
    "# calc",
    "",
    "`add(a, b)` returns the sum of a and b; `multiply(a, b)` their product.",
    "A user reports that `add(2, 3)` returns -1.",
    "",
  ].join("\n"),
};

export async function writeSampleProject(dir: string): Promise<void> {
  for (const [name, text] of Object.entries(SAMPLE_FILES)) await writeFile(join(dir, name), text);
}

const FIX_ADD = [
  "*** Begin Patch",
  "*** Update File: calc.js",
  "@@ function add(a, b) {",
  "-  return a - b;",
  "+  return a + b;",
  "*** End Patch",
].join("\n");

// The scripted model plays each worker's `steps` in turn, one per model request. Token counts are set
// so the totals look like a real run; the scripted model would otherwise report a flat 110.
const scout: ScriptStep[] = [
  { type: "shell", command: "ls && head -n 20 calc.js" },
  {
    type: "message",
    text: [
      "calc is a two-function CommonJS module (calc.js) with a README; no tests, no package.json.",
      "- `add` subtracts (`return a - b;`), which matches the README's bug report (add(2, 3) = -1).",
      "- `multiply` looks right.",
      "Suggested next step: fix `add` in calc.js and add a one-line check.",
    ].join("\n"),
    usage: { input_tokens: 2140, output_tokens: 96 },
  },
];

const reviewer: ScriptStep[] = [
  { type: "shell", command: "cat -n calc.js" },
  {
    type: "message",
    text: [
      "Findings, most severe first:",
      "1. [high] calc.js:3 `add` returns `a - b`; it must return `a + b` (README: add(2, 3) gives -1).",
      "2. [low] calc.js has no tests, so a regression like (1) goes unnoticed.",
      "3. [nit] Neither function checks its argument types; fine for a demo module.",
    ].join("\n"),
    usage: { input_tokens: 2310, output_tokens: 118 },
  },
];

const implementer: ScriptStep[] = [
  { type: "patch", patch: FIX_ADD },
  { type: "shell", command: `node -e 'console.log("add(2, 3) =", require("./calc.js").add(2, 3))'` },
  {
    type: "message",
    text: "Fixed `add` in calc.js: `return a - b;` is now `return a + b;`.\nChecked it with node: {{output}}",
    usage: { input_tokens: 2580, output_tokens: 64 },
  },
];

/** Plays each worker's `MODEL-SCRIPT` line, with `{{output}}` standing for the command's own output. */
export function demoScript(): Script {
  // The review's workers carry no script line: they are answered by lens (see mixed-review.ts).
  const play = directiveScript((request) => codexReviewStep(request) ?? { type: "message", text: "done" });
  return (request) => play({ ...request, lastToolOutput: commandOutput(request.lastToolOutput) });
}

/** codex puts a header (chunk id, wall time, exit code) above a command's output; a model would skip it. */
function commandOutput(toolOutput: string | undefined): string | undefined {
  const marker = "\nOutput:\n";
  const at = toolOutput?.indexOf(marker) ?? -1;
  return at < 0 ? toolOutput : toolOutput?.slice(at + marker.length);
}

/** The three workers the demo runs, each with its own role and model script. */
export function demoWorkers(bin: string | undefined, unconfined = false): SpawnOptions[] {
  const task = (text: string, steps: ScriptStep[]) => `${text}\n${modelScriptLine(steps)}`;
  const shared = { timeoutSeconds: 120, ...(bin ? { bin } : {}) };
  return [
    {
      ...shared,
      role: "scout",
      label: "map-project",
      task: task("Map this project: list its files and say what calc.js does.", scout),
    },
    {
      ...shared,
      role: "reviewer",
      label: "review-calc",
      task: task("Review calc.js for bugs; rank the findings by severity.", reviewer),
    },
    {
      ...shared,
      role: "implementer",
      label: "fix-add",
      write: ["calc.js"],
      ...(unconfined ? { unconfined: true } : {}),
      task: task("Fix the bug in `add` in calc.js and check the fix.", implementer),
    },
  ];
}
