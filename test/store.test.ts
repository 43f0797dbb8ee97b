import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { directiveScript } from "../dist/scripted-model/index.js";
import { writeFileAtomic, writeFileOnce } from "../dist/store/atomic.js";
import { Redactor } from "../dist/store/redact.js";
import { Store } from "../dist/store/store.js";
import { FIXTURES, Workspace } from "./support/harness.ts";

describe("the run store", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-store-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a result written once is never overwritten", async () => {
    const path = join(dir, "result.json");
    assert.equal(await writeFileOnce(path, "first"), true);
    assert.equal(await writeFileOnce(path, "second"), false);
    assert.equal(readFileSync(path, "utf8"), "first");
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith(".tmp")),
      [],
      "no temp files left",
    );
  });

  test("an atomic replace leaves the whole new file", async () => {
    const path = join(dir, "status.json");
    await writeFileAtomic(path, "old");
    await writeFileAtomic(path, "new");
    assert.equal(readFileSync(path, "utf8"), "new");
  });

  test("the store and its files are readable by their owner only", async () => {
    const store = await Store.open(join(dir, ".baton"));
    await writeFileAtomic(join(store.home, "x.json"), "{}");
    const { statSync } = await import("node:fs");
    assert.equal(statSync(store.home).mode & 0o777, 0o700);
    assert.equal(statSync(join(store.home, "x.json")).mode & 0o777, 0o600);
  });

  test("a damaged status file is reported, not thrown", async () => {
    const store = await Store.open(join(dir, ".baton2"));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(store.home, "workers", "w1"));
    writeFileSync(join(store.home, "workers", "w1", "status.json"), '{"id": "w1", "sta');
    const read = await store.readStatus("w1");
    assert.equal(read.ok, false);
    assert.equal(read.ok === false && read.kind, "corrupt");
    assert.equal((await store.readResult("w1")).ok, false);
  });

  test("the redactor catches a secret split across chunks, and delays nothing else", () => {
    const redactor = new Redactor(["sk-secret-123456"]);
    assert.equal(redactor.push("a sk-sec"), "a ", "only what could start the secret is held back");
    assert.equal(redactor.push("ret-123456 b"), "[redacted] b");
    assert.equal(redactor.push("plain text"), "plain text", "text that cannot start a secret passes at once");
    assert.equal(redactor.push(" sk-"), " ");
    assert.equal(redactor.push("nope"), "sk-nope");
    assert.equal(redactor.flush(), "");
  });
});

describe("secrets never reach the store", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("an API key the agent prints is redacted from transcript and events", async () => {
    const key = "sk-test-THISISASECRETVALUE-42";
    const env = { ...ws.env, BATON_TEST_API_KEY: key };
    const id = (
      await ws.baton(["spawn", "--codex-bin", join(FIXTURES, "secret-agent.sh"), "print it"], { env })
    ).stdout.trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const logs = await ws.ok(["logs", id]);
    assert.match(logs, /whole: \[redacted\]/);
    assert.match(logs, /split: \[redacted\]/);
    const files = readdirSync(join(ws.home, "workers", id));
    for (const name of files) {
      assert.ok(
        !readFileSync(join(ws.home, "workers", id, name), "utf8").includes(key),
        `${name} holds no key`,
      );
    }
    for (const name of readdirSync(ws.home).filter((n) => n.endsWith(".json") || n.endsWith(".log"))) {
      assert.ok(!readFileSync(join(ws.home, name), "utf8").includes(key), `${name} holds no key`);
    }
  });
});
