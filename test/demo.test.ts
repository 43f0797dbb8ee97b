import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, runNode } from "./support/harness.ts";

// The README's first command runs this demo: it must keep working, with no account and no network.
test("the demo runs three real codex workers, then a review on codex, claude and gemini, and cleans up", async () => {
  const env = { ...process.env };
  delete env.BATON_HOME;
  delete env.BATON_WORKER_ID;
  const result = await runNode([join(ROOT, "dist/demo/main.js")], { env, cwd: ROOT });
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /3 of 3 workers succeeded/);
  for (const role of ["scout", "reviewer", "implementer"])
    assert.match(result.stdout, new RegExp(`· ${role} ·`));
  assert.doesNotMatch(result.stdout, /\(no answer\)/);
  // Part two: Claude Code and the Gemini CLI are devDependencies, so the mixed review runs.
  assert.match(
    result.stdout,
    /^1\. \[HIGH\] add returns a - b — calc\.js:3 \(lenses: correctness, performance, security; 3 of 3 reviewers; backends: claude, codex, gemini\)$/m,
  );
  assert.match(
    result.stdout,
    /^Reviewers: correctness \(w\d+, codex(?: [^;)]+)?\); security \(w\d+, claude(?: [^;)]+)?\); performance \(w\d+, gemini gemini-2\.5-pro\)$/m,
  );
});
