import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  checkPointers,
  contextPackFromFlags,
  loadContextPack,
  mergeContextPacks,
  pointerPath,
  renderContextPack,
} from "../dist/context/index.js";

const EMPTY = { nonGoals: [], constraints: [], pointers: [], priorDecisions: [] };

/** Asserts a one-line usage error whose message matches `pattern`. */
function usageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.equal((error as { code?: string }).code, "usage");
    const { message } = error as Error;
    assert.doesNotMatch(message, /\n/);
    assert.match(message, pattern);
    return true;
  };
}

describe("context packs", () => {
  let cwd: string;
  const write = (name: string, text: string): string => {
    writeFileSync(join(cwd, name), text);
    return name;
  };
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), "baton-context-"));
    mkdirSync(join(cwd, "src"));
    writeFileSync(join(cwd, "src", "parser.ts"), "");
    writeFileSync(join(cwd, "README.md"), "");
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  test("a YAML pack is read with snake_case keys, and a lone string becomes a one-item list", async () => {
    const file = write(
      "context.yaml",
      [
        "goal: Parse ranges without off-by-one errors",
        "non_goals: Rewriting the lexer",
        "constraints:",
        "  - Keep the public API",
        "  - 2-space indent",
        "pointers:",
        "  - src/parser.ts:42",
        "  - src/ — the sources",
        "prior_decisions: [Ranges are inclusive]",
        "success_check: npm test passes",
      ].join("\n"),
    );
    assert.deepEqual(await loadContextPack(file, cwd), {
      goal: "Parse ranges without off-by-one errors",
      nonGoals: ["Rewriting the lexer"],
      constraints: ["Keep the public API", "2-space indent"],
      pointers: ["src/parser.ts:42", "src/ — the sources"],
      priorDecisions: ["Ranges are inclusive"],
      successCheck: "npm test passes",
    });
  });

  test("a YAML pack accepts camelCase keys and blank values", async () => {
    const file = write("camel.yml", "goal:\nnonGoals:\n  - No new dependencies\npriorDecisions: Use zod\n");
    assert.deepEqual(await loadContextPack(file, cwd), {
      ...EMPTY,
      nonGoals: ["No new dependencies"],
      priorDecisions: ["Use zod"],
    });
  });

  test("a Markdown pack is read from its headings, as paragraphs or bullets", async () => {
    const file = write(
      "context.md",
      [
        "# Context for the parser fix",
        "Some introduction that is not part of any field.",
        "",
        "## Goal",
        "Ranges parse correctly",
        "at both ends.",
        "",
        "## non-goals",
        "- Rewriting the lexer",
        "* Touching the CLI",
        "",
        "## Constraints",
        "Keep the public API.",
        "",
        "No new dependencies.",
        "",
        "## Pointers",
        "- `src/parser.ts` — where ranges are parsed",
        "- https://example.com/spec",
        "",
        "## Prior Decisions",
        "1. Ranges are inclusive",
        "   because users expect it",
        "",
        "## Success check:",
        "- npm test passes",
        "- the bug report's example works",
      ].join("\n"),
    );
    assert.deepEqual(await loadContextPack(file, cwd), {
      goal: "Ranges parse correctly at both ends.",
      nonGoals: ["Rewriting the lexer", "Touching the CLI"],
      constraints: ["Keep the public API.", "No new dependencies."],
      pointers: ["`src/parser.ts` — where ranges are parsed", "https://example.com/spec"],
      priorDecisions: ["Ranges are inclusive because users expect it"],
      successCheck: "- npm test passes\n- the bug report's example works",
    });
  });

  test("an unknown YAML field is reported with its line and a suggestion", async () => {
    const file = write("typo.yaml", "constraints:\n  - Keep the API\n\ngoals: Fix it\n");
    await assert.rejects(
      loadContextPack(file, cwd),
      usageError(/^typo\.yaml:4: unknown field "goals": did you mean "goal"\?$/),
    );
  });

  test("an unknown Markdown section is reported with its line and a suggestion", async () => {
    const file = write("typo.md", "## Goal\nFix it\n\n## Constraint\n- Keep the API\n");
    await assert.rejects(
      loadContextPack(file, cwd),
      usageError(/^typo\.md:4: unknown section "## Constraint": did you mean "## Constraints"\?$/),
    );
  });

  test("a value of the wrong type is reported with its line", async () => {
    const goal = write("goal-list.yaml", "constraints: [a]\ngoal:\n  - one\n  - two\n");
    await assert.rejects(
      loadContextPack(goal, cwd),
      usageError(/^goal-list\.yaml:3: "goal" must be a string$/),
    );
    const item = write("item.yaml", "goal: x\nconstraints:\n  - fine\n  - { nested: map }\n");
    await assert.rejects(
      loadContextPack(item, cwd),
      usageError(/^item\.yaml:4: item 2 of "constraints" must be a string$/),
    );
    const list = write("list.yaml", "pointers: 42\n");
    await assert.rejects(
      loadContextPack(list, cwd),
      usageError(/^list\.yaml:1: "pointers" must be a string or a list of strings$/),
    );
  });

  test("broken YAML, an empty pack, a missing file and an unknown extension are one-line errors", async () => {
    await assert.rejects(
      loadContextPack(write("broken.yaml", "goal: a: b\n"), cwd),
      usageError(/^broken\.yaml:1: invalid YAML: /),
    );
    await assert.rejects(
      loadContextPack(write("empty.yaml", "goal:\n"), cwd),
      usageError(/^empty\.yaml: the context pack is empty: fill in at least one of goal, non_goals/),
    );
    await assert.rejects(
      loadContextPack(write("empty.md", "# Title only\n"), cwd),
      usageError(/^empty\.md: the context pack is empty: fill in at least one of ## Goal, ## Non-goals/),
    );
    await assert.rejects(
      loadContextPack("nowhere.yaml", cwd),
      usageError(/^nowhere\.yaml: the context pack does not exist \(relative to /),
    );
    await assert.rejects(
      loadContextPack(write("context.json", "{}"), cwd),
      usageError(/^context\.json: a context pack must be a \.yaml, \.yml or \.md file$/),
    );
  });

  test("a pointer to a missing file is named, with its line and the cwd", async () => {
    const yaml = write("missing.yaml", "goal: x\npointers:\n  - src/parser.ts\n  - src/missing.ts:10\n");
    await assert.rejects(
      loadContextPack(yaml, cwd),
      usageError(
        new RegExp(
          `^missing\\.yaml:4: context pack pointer "src/missing\\.ts" does not exist \\(relative to ${cwd}\\): ` +
            "fix the path or remove it$",
        ),
      ),
    );
    const md = write("missing.md", "## Pointers\n- README.md\n- `docs/plan.md` — the plan\n");
    await assert.rejects(
      loadContextPack(md, cwd),
      usageError(/^missing\.md:3: context pack pointer "docs\/plan\.md"/),
    );
  });

  test("URLs and prose pointers are not checked; paths with a line or an anchor are", () => {
    assert.equal(pointerPath("https://nodejs.org/api/fs.html"), undefined);
    assert.equal(pointerPath("the design notes in the wiki"), undefined);
    assert.equal(pointerPath("Node.js stream docs"), undefined);
    assert.equal(pointerPath("PR #123"), undefined);
    assert.equal(pointerPath("#123"), undefined);
    assert.equal(pointerPath("src/parser.ts:42:7"), "src/parser.ts");
    assert.equal(pointerPath("docs/guide.md#setup"), "docs/guide.md");
    assert.equal(pointerPath("src/store/: the run store"), "src/store/");
    assert.equal(pointerPath("`My Notes.md` from the kickoff"), "My Notes.md");
    assert.equal(pointerPath("Makefile"), "Makefile");
    const pack = {
      ...EMPTY,
      pointers: ["https://example.com/missing", "the team's wiki page on ranges", "README.md", "./src"],
    };
    assert.doesNotThrow(() => checkPointers(pack, cwd));
    assert.throws(
      () => checkPointers({ ...EMPTY, pointers: ["src/missing.ts"] }, cwd),
      usageError(/^context pack pointer "src\/missing\.ts" does not exist/),
    );
  });

  test("flags make a pack, check its pointers, and add to a file's pack", async () => {
    assert.equal(contextPackFromFlags({}, cwd), undefined);
    assert.throws(
      () => contextPackFromFlags({ pointer: ["src/missing.ts"] }, cwd),
      usageError(/pointer "src\/missing\.ts" does not exist/),
    );
    const flags = contextPackFromFlags(
      { goal: "Flag goal", constraint: ["No new dependencies", "Keep the API"], pointer: ["README.md"] },
      cwd,
    );
    const file = await loadContextPack(
      write("base.yaml", "goal: File goal\nconstraints: Keep the API\nsuccess_check: npm test\n"),
      cwd,
    );
    assert.deepEqual(mergeContextPacks(file, flags), {
      ...EMPTY,
      goal: "Flag goal",
      constraints: ["Keep the API", "No new dependencies"],
      pointers: ["README.md"],
      successCheck: "npm test",
    });
    assert.equal(mergeContextPacks(file, undefined), file);
  });

  test("the rendered pack leaves out empty sections", () => {
    const text = renderContextPack({
      ...EMPTY,
      goal: "Ranges parse correctly",
      constraints: ["Keep the API", "No new dependencies"],
    });
    assert.equal(
      text,
      "CONTEXT PACK\nGoal: Ranges parse correctly\nConstraints:\n- Keep the API\n- No new dependencies",
    );
    assert.equal(renderContextPack(EMPTY), "");
  });
});
