import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  BUILT_IN_TEMPLATES,
  defaultScope,
  LENSES,
  loadTemplate,
  renderWorkerPrompt,
  templateOverrides,
} from "../dist/roles/index.js";
import { WORKER_PREAMBLE, workerPrompt } from "../dist/worker/prompt.js";
import { ROLES } from "../dist/worker/types.js";

const READ_ONLY = { kind: "read-only" } as const;
const CONTEXT = {
  goal: "Ranges parse correctly",
  nonGoals: [],
  constraints: ["Keep the public API"],
  pointers: [],
  priorDecisions: [],
};

describe("role templates", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-roles-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("every role's prompt starts with the preamble and has DO, OUTPUT and DO NOT", () => {
    for (const role of ROLES) {
      const prompt = renderWorkerPrompt({ role, task: "Map the parser", scope: defaultScope(role, [], dir) });
      assert.ok(prompt.startsWith(`${WORKER_PREAMBLE}\n`), role);
      assert.match(prompt, /^TASK: Map the parser$/m, role);
      assert.match(prompt, /^SCOPE: /m, role);
      for (const section of ["DO:", "OUTPUT:", "DO NOT:"])
        assert.match(prompt, new RegExp(`^${section}$`, "m"), role);
      assert.doesNotMatch(prompt, /\{\{|\n\n/, `${role}: no placeholder or blank line left`);
      assert.ok(prompt.endsWith("\n"), role);
    }
  });

  test("read-only roles stay read-only; an implementer writes only the paths it is given", () => {
    for (const role of ["scout", "reviewer", "research", "verifier"] as const) {
      assert.deepEqual(defaultScope(role, [], dir), READ_ONLY);
    }
    assert.deepEqual(defaultScope("implementer", [], dir), { kind: "write", paths: [dir] });
    const scope = defaultScope("implementer", ["src/parser.ts", "test"], dir);
    assert.deepEqual(scope, { kind: "write", paths: [join(dir, "src/parser.ts"), join(dir, "test")] });
    const prompt = renderWorkerPrompt({ role: "implementer", task: "Fix it", scope });
    assert.match(
      prompt,
      new RegExp(`^SCOPE: may edit ${join(dir, "src/parser.ts")}, ${join(dir, "test")}$`, "m"),
    );
  });

  test("placeholders are filled: lens ids become labels, and no lens reads as any", () => {
    const prompt = renderWorkerPrompt({
      role: "reviewer",
      task: "Review src/parser.ts",
      scope: READ_ONLY,
      lens: "risks, security",
      context: CONTEXT,
    });
    assert.match(prompt, /^LENS: Risks\/failure modes, Security$/m);
    assert.match(prompt, /^SCOPE: read-only$/m);
    assert.ok(
      prompt.endsWith("CONTEXT PACK\nGoal: Ranges parse correctly\nConstraints:\n- Keep the public API\n"),
    );
    assert.match(renderWorkerPrompt({ role: "reviewer", task: "x", scope: READ_ONLY }), /^LENS: any$/m);
    assert.equal(LENSES.length, 10);
    assert.deepEqual(LENSES[1], { id: "correctness", label: "Correctness/completeness" });
  });

  test("with no role the prompt is scope and task, as before, then the context pack", () => {
    assert.equal(renderWorkerPrompt({ task: "Do it", scope: READ_ONLY }), workerPrompt("Do it", READ_ONLY));
    assert.equal(
      renderWorkerPrompt({ task: "Do it", scope: READ_ONLY, context: CONTEXT }),
      `${workerPrompt("Do it", READ_ONLY)}CONTEXT PACK\nGoal: Ranges parse correctly\nConstraints:\n- Keep the public API\n`,
    );
  });

  test("a user template replaces the built-in one; unknown placeholders are kept", async () => {
    const file = join(dir, "reviewer.md");
    writeFileSync(
      file,
      "CONTEXT: WORKER\nTASK: {{task}}\nFOCUS: {{lens}} for {{audience}}\n{{context}}\nEND\n",
    );
    const template = await loadTemplate("reviewer", file);
    const prompt = renderWorkerPrompt({
      role: "reviewer",
      task: "Review the {{lens}} docs",
      scope: READ_ONLY,
      lens: "clarity",
      context: CONTEXT,
      template,
    });
    assert.equal(
      prompt,
      `${WORKER_PREAMBLE}\nTASK: Review the {{lens}} docs\nFOCUS: Clarity/structure for {{audience}}\n` +
        "CONTEXT PACK\nGoal: Ranges parse correctly\nConstraints:\n- Keep the public API\nEND\n",
    );
    assert.equal(await loadTemplate("scout"), BUILT_IN_TEMPLATES.scout);
  });

  test("a missing or task-less template file is a one-line usage error", async () => {
    await assert.rejects(
      loadTemplate("implementer", join(dir, "nope.md")),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "usage");
        assert.equal(
          error.message,
          `implementer template ${join(dir, "nope.md")} does not exist: fix the path or remove it`,
        );
        return true;
      },
    );
    const file = join(dir, "no-task.md");
    writeFileSync(file, "Just do something.\n");
    await assert.rejects(
      loadTemplate("scout", file),
      /scout template .* has no \{\{task\}\}: add it where the task goes/,
    );
  });

  test("template overrides are found in the store's templates folder", async () => {
    const home = join(dir, ".baton");
    assert.deepEqual(await templateOverrides(home), {});
    mkdirSync(join(home, "templates"), { recursive: true });
    writeFileSync(join(home, "templates", "verifier.md"), "TASK: {{task}}\n");
    writeFileSync(join(home, "templates", "notes.md"), "not a role\n");
    assert.deepEqual(await templateOverrides(home), { verifier: join(home, "templates", "verifier.md") });
  });
});
