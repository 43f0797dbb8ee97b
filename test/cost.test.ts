import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { costOf, costText } from "../dist/cost/cost.js";
import { SHIPPED_PRICES } from "../dist/cost/prices.js";
import { Pricing } from "../dist/cost/pricing.js";
import { loadUserPrices, priceFiles } from "../dist/cost/user-prices.js";

// Dollars per worker: the agent's own figure, else a price table (the user's before Baton's), else
// `unpriced` with why, never a silent zero.

const usage = (input: number, cached: number, output: number) => ({
  inputTokens: input,
  cachedInputTokens: cached,
  outputTokens: output,
  reasoningOutputTokens: 0,
});

describe("the cost of a worker", () => {
  test("a priced model: uncached input, cached input and output each at their own rate, with the table named", () => {
    const cost = costOf({ usage: usage(1_000_000, 400_000, 100_000), model: "gpt-5.5" });
    assert.equal(cost.source, "baton");
    // 600k at $5, 400k at $0.50, 100k at $30
    assert.ok(cost.usd !== undefined && Math.abs(cost.usd - (3 + 0.2 + 3)) < 1e-9, String(cost.usd));
    assert.deepEqual(cost.source === "baton" && cost.table, {
      source: SHIPPED_PRICES.source,
      date: SHIPPED_PRICES.date,
      model: "gpt-5.5",
    });
    assert.equal(costText(cost), "$6.20");
  });

  test("a dated release is priced as its model; a longer name is not mistaken for a shorter one", () => {
    const dated = costOf({ usage: usage(1_000_000, 0, 0), model: "claude-sonnet-4-5-20250929" });
    assert.equal(dated.source === "baton" && dated.table?.model, "claude-sonnet-4-5");
    const mini = costOf({ usage: usage(1_000_000, 0, 0), model: "gpt-5-mini" });
    assert.equal(mini.usd, 0.25);
    const unknown = costOf({ usage: usage(10, 0, 10), model: "gpt-5-ultra-turbo" });
    assert.equal(unknown.source, "unpriced");
  });

  test("the agent's own figure wins; an unknown model or none is unpriced, with what to do", () => {
    assert.deepEqual(costOf({ usage: usage(5, 0, 5), model: "gpt-5.5", agentUsd: 0.0421 }), {
      usd: 0.0421,
      source: "agent",
    });
    const none = costOf({ usage: usage(5, 0, 5), model: undefined });
    assert.equal(none.usd, undefined);
    assert.match(
      none.source === "unpriced" ? none.why : "",
      /give --model, or price it in \.baton\/prices\.yaml/,
    );
    const scripted = costOf({ usage: usage(5, 0, 5), model: "fake-model" });
    assert.match(scripted.source === "unpriced" ? scripted.why : "", /no price for model "fake-model"/);
    assert.equal(costText(scripted), "unpriced");
  });

  test("the user's table wins over Baton's, workspace before user config, and names itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-prices-"));
    try {
      const home = join(dir, ".baton");
      const [workspace, user] = priceFiles(home, { HOME: dir, XDG_CONFIG_HOME: join(dir, "config") });
      assert.equal(user, join(dir, "config", "baton", "prices.yaml"));
      const { mkdirSync } = await import("node:fs");
      mkdirSync(home, { recursive: true });
      writeFileSync(
        workspace!,
        "source: our agreement\ndate: 2026-09-01\nmodels:\n  gpt-5.5: { input: 4, cachedInput: 0.4, output: 24 }\n  fake-model: { input: 0, output: 0 }\n",
      );
      const tables = await loadUserPrices([workspace!, user!]);
      assert.equal(tables.length, 1, "a missing file is no table");
      const cost = costOf({ usage: usage(1_000_000, 0, 0), model: "gpt-5.5", userTables: tables });
      assert.deepEqual(cost, {
        usd: 4,
        source: "user",
        table: { source: "our agreement", date: "2026-09-01", model: "gpt-5.5" },
      });
      const free = costOf({ usage: usage(100, 0, 100), model: "fake-model", userTables: tables });
      assert.equal(free.usd, 0, "priced at zero by the user is a price, not unpriced");

      writeFileSync(workspace!, "models:\n  gpt-5.5: { input: -1, output: 2 }\n");
      await assert.rejects(loadUserPrices([workspace!]), (error: Error) => {
        assert.equal(error.message.split("\n").length, 1);
        assert.match(error.message, /prices\.yaml:2: "models\.gpt-5\.5\.input" must be 0 or more US dollars/);
        return true;
      });
      writeFileSync(workspace!, "models:\n  gpt-5.5: { in: 1, output: 2 }\n");
      await assert.rejects(
        loadUserPrices([workspace!]),
        /prices\.yaml: "models\.gpt-5\.5\.input" is missing/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the supervisor's prices", () => {
  test("an edited table applies from the next look, a wrong one leaves the last good one in use", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-prices-"));
    try {
      const file = join(dir, "prices.yaml");
      const pricing = new Pricing([file, join(dir, "none.yaml")]);
      const rate = () => pricing.price(usage(1_000_000, 0, 0), "gpt-5.5").usd;
      writeFileSync(file, "models:\n  gpt-5.5: { input: 4, output: 24 }\n");
      await pricing.refresh();
      assert.equal(rate(), 4);
      // Calls that find the files unchanged, or a read under way, share it.
      await Promise.all([pricing.refresh(), pricing.refresh(), pricing.refresh()]);
      assert.equal(rate(), 4);

      writeFileSync(file, "models:\n  gpt-5.5: { input: 10, output: 24 }\n");
      await pricing.refresh();
      assert.equal(rate(), 10, "the edit applies with no restart");

      writeFileSync(file, "models:\n  gpt-5.5: { input: -1, output: 2 }\n");
      await assert.rejects(pricing.refresh(), /prices\.yaml:2: "models\.gpt-5\.5\.input" must be 0 or more/);
      assert.equal(rate(), 10, "the tables read before stand");
      await assert.rejects(pricing.refresh(), /must be 0 or more/, "and it is tried again next time");

      rmSync(file);
      await pricing.refresh();
      assert.equal(
        pricing.price(usage(1_000_000, 0, 0), "gpt-5.5").source,
        "baton",
        "Baton's own table again",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("costs together", () => {
  test("attempts add up: an unpriced part makes the sum unpriced; no tokens add nothing; an agent's figure keeps its source", async () => {
    const { addCost } = await import("../dist/cost/cost.js");
    const table = { source: "t", date: "2026-01-01", model: "m" };
    const priced = { usd: 1, source: "user", table } as const;
    const unpriced = { usd: undefined, source: "unpriced", why: "no price" } as const;
    assert.deepEqual(addCost(priced, unpriced), unpriced);
    assert.deepEqual(addCost(unpriced, priced), unpriced);
    assert.deepEqual(
      addCost({ usd: 0, source: "baton" }, unpriced),
      unpriced,
      "nothing used: no price needed",
    );
    assert.deepEqual(addCost(undefined, priced), priced);
    assert.deepEqual(addCost({ usd: 0.5, source: "agent" }, priced), { usd: 1.5, source: "agent", table });
  });

  test("a run's total counts priced workers and names the unpriced ones, never as zero", async () => {
    const { spentText, totalSpent } = await import("../dist/cost/total.js");
    const spent = totalSpent([
      { id: "w1", usage: usage(1000, 0, 234), cost: { usd: 0.25, source: "baton" } },
      { id: "w2", usage: usage(10, 0, 0), cost: { usd: undefined, source: "unpriced", why: "x" } },
      { id: "w3", usage: usage(0, 0, 0) },
    ]);
    assert.deepEqual(spent, { workers: 3, tokens: 1244, usd: 0.25, unpriced: ["w2"] });
    assert.equal(spentText(spent), "3 workers, 1,244 tokens, $0.25 (w2 unpriced, not counted)");
    assert.equal(spentText({ ...spent, unpriced: [] }), "3 workers, 1,244 tokens, $0.25");
  });

  test("codex's model is read from its config.toml's top level, never from a table", async () => {
    const { codexConfigModel } = await import("../dist/backend/codex-model.js");
    const dir = mkdtempSync(join(tmpdir(), "baton-codex-home-"));
    try {
      writeFileSync(
        join(dir, "config.toml"),
        'approval = "never"\nmodel = "gpt-5.5" # ours\n[x]\nmodel = "other"\n',
      );
      assert.equal(codexConfigModel({ CODEX_HOME: dir }), "gpt-5.5");
      writeFileSync(join(dir, "config.toml"), '[profiles.fast]\nmodel = "gpt-5-mini"\n');
      assert.equal(codexConfigModel({ CODEX_HOME: dir }), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
