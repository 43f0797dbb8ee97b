import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { workerChanges } from "../dist/worker/changes.js";
import { launchChromium, startUi, type UiProcess } from "./support/browser.ts";
import { busy, CLI, ROOT, runNode, Workspace } from "./support/harness.ts";

// `baton ui` in a real browser (Debian's chromium through playwright-core) while real codex workers
// run against the scripted model. Every wait is on something the page or the server shows, with a
// timeout; none is a fixed sleep.

const WAIT_MS = 60_000;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request with headers fetch would not let a test set (Host), read whole or up to `until`. */
function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; until?: RegExp } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
        if (options.until?.test(body)) {
          done();
          req.destroy();
        }
      });
      res.on("end", done);
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    encoding: "utf8",
  });

const says = (text: string) => modelScriptLine([{ type: "message", text }]);
const edits = (file: string, text: string) =>
  modelScriptLine([
    {
      type: "patch",
      patch: `*** Begin Patch\n*** Update File: ${file}\n@@\n-original\n+${text}\n*** End Patch`,
    },
    { type: "message", text: `wrote ${file}` },
  ]);

describe("baton ui: the web dashboard in a real browser", () => {
  let ws: Workspace;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  /** The dashboard's origin and a path under it with a wrong token. */
  let origin: string;

  const spawn = async (...args: string[]) => (await ws.ok(["spawn", ...args])).trim();
  const cell = (id: string, name: string) => page.locator(`#workers tbody tr[data-id="${id}"] td.${name}`);
  const stateIs = (id: string, state: string) =>
    cell(id, "state")
      .filter({ hasText: new RegExp(`^${state}$`) })
      .waitFor({ timeout: WAIT_MS });
  const open = async (id: string, tab: "answer" | "transcript" | "changes") => {
    await page.locator(`#workers tbody tr[data-id="${id}"]`).click();
    await page
      .locator("#detail-title")
      .filter({ hasText: new RegExp(`^${id}\\b`) })
      .waitFor();
    await page.locator(`.tab[data-tab="${tab}"]`).click();
  };

  before(async () => {
    ws = await Workspace.create(directiveScript());
    git(ws.dir, "init", "-q");
    writeFileSync(join(ws.dir, ".gitignore"), ".baton/\ncodex-home/\n");
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    writeFileSync(join(ws.dir, "other.txt"), "original\n");
    git(ws.dir, "add", ".");
    git(ws.dir, "commit", "-qm", "start");
    ui = await startUi(ws);
    origin = new URL(ui.url).origin;
    browser = await launchChromium();
    page = await browser.newPage();
    // Any Content-Security-Policy violation would mean the page tried to run or style something inline.
    await page.addInitScript(() => {
      const seen: string[] = [];
      Object.assign(window, { violations: seen });
      document.addEventListener("securitypolicyviolation", (e) => seen.push(e.violatedDirective));
    });
    await page.goto(ui.url);
    await page
      .locator("#connection")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: WAIT_MS });
  });
  after(async () => {
    await browser?.close();
    const code = await ui?.stop();
    assert.equal(code, 0, ui?.stderr());
    await ws?.cleanup();
  });

  test("without the right token every path answers 403 and nothing else: page, script, API, events, actions", async () => {
    const paths = [
      "",
      "app.js",
      "api/state",
      "events?since=0",
      "api/workers/w1/result",
      "api/workers/w1/changes",
    ];
    for (const base of [`${origin}/t/${"A".repeat(43)}/`, `${origin}/t/`, `${origin}/`, `${origin}/api/`]) {
      for (const path of paths) {
        const answer = await http(base + path);
        assert.equal(answer.status, 403, base + path);
        assert.equal(answer.body, "", `no data for ${base}${path}`);
      }
    }
    for (const action of ["stop", "interrupt"]) {
      const answer = await http(`${origin}/t/wrong/api/workers/w1/${action}`, { method: "POST" });
      assert.deepEqual([answer.status, answer.body], [403, ""]);
    }
    // The right token, but another Host (a DNS-rebinding page) or another Origin (a cross-site POST).
    const rebound = await http(`${ui.url}api/state`, {
      headers: { Host: `evil.example:${new URL(origin).port}` },
    });
    assert.deepEqual([rebound.status, rebound.body], [403, ""]);
    const events = await http(`${ui.url}events`, { headers: { Host: "evil.example" } });
    assert.deepEqual([events.status, events.body], [403, ""]);
    const crossSite = await http(`${ui.url}api/workers/w1/stop`, {
      method: "POST",
      headers: { Origin: "http://evil.example" },
    });
    assert.deepEqual([crossSite.status, crossSite.body], [403, ""]);
    // The right token: the page, with its security headers, also under localhost.
    const served = await http(ui.url.replace("127.0.0.1", "localhost"));
    assert.equal(served.status, 200);
    assert.equal(
      served.headers["content-security-policy"],
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    assert.equal(served.headers["x-content-type-options"], "nosniff");
    assert.equal(served.headers["referrer-policy"], "no-referrer");
    assert.equal(served.headers["set-cookie"], undefined);
    // In the browser too: a wrong token gets 403 (chromium then shows its own error page), no dashboard.
    const wrong = await browser.newPage();
    const [response] = await Promise.all([
      wrong.waitForResponse(`${origin}/t/wrong/`),
      wrong.goto(`${origin}/t/wrong/`).catch(() => undefined),
    ]);
    assert.equal(response.status(), 403);
    assert.equal(await wrong.locator("#workers").count(), 0);
    await wrong.close();
  });

  test("the page shows workers appear, run and finish, live, with their answers and transcripts", async () => {
    await page.goto(ui.url);
    await page
      .locator("#connection")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: WAIT_MS });
    const a = await spawn("--label", "alpha", "--role", "scout", `map it\n${says("alpha is done")}`);
    const b = await spawn("--label", "beta", `count it\n${says("beta is done")}`);
    for (const id of [a, b]) await stateIs(id, "succeeded");
    assert.equal(await cell(a, "label").textContent(), "alpha");
    assert.equal(await cell(a, "role").textContent(), "scout");
    assert.equal(await cell(b, "backend").textContent(), "codex");
    assert.match((await cell(a, "tokens").textContent()) ?? "", /^[1-9][0-9,]*$/);
    // The scripted model has no price: said so, never $0.
    assert.equal(await cell(a, "cost").textContent(), "unpriced");
    assert.match(
      (await cell(a, "cost").getAttribute("title")) ?? "",
      /^unpriced: no price for model "fake-model"/,
    );
    assert.match((await cell(a, "activity").textContent()) ?? "", /ago: /);
    await open(a, "answer");
    await page.locator("#answer").filter({ hasText: "alpha is done" }).waitFor({ timeout: WAIT_MS });
    await open(b, "transcript");
    await page
      .locator("#transcript")
      .filter({ hasText: /final answer:\s+beta is done/ })
      .waitFor({ timeout: WAIT_MS });
  });

  test("the plan and a pattern run with its steps show live", async () => {
    await ws.ok(["plan", "set", "Scout the code", "Review it", "Fix the top issue"]);
    const steps = page.locator(".plan .steps li");
    await steps.filter({ hasText: /^\[>\] Scout the code$/ }).waitFor({ timeout: WAIT_MS });
    await ws.ok(["plan", "update", "--advance"]);
    await steps.filter({ hasText: /^\[>\] Review it$/ }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await steps.allTextContents(), [
      "[x] Scout the code",
      "[>] Review it",
      "[ ] Fix the top issue",
    ]);
    const review = JSON.stringify({ summary: "nothing found", findings: [] });
    const task = `Review it\n${modelScriptLine([{ type: "message", text: review }])}`;
    const run = await ws.baton(["run", "review", "--lens", "security", "--lens", "correctness", task]);
    assert.equal(run.code, 0, run.stderr);
    const id = /saved in .*runs\/(r[0-9]+)\//.exec(run.stdout)?.[1];
    const item = page.locator(`#runs li[data-run="${id}"]`);
    await item
      .locator(".run-state")
      .filter({ hasText: /^ review: succeeded$/ })
      .waitFor({ timeout: WAIT_MS });
    const shown = await item.locator(".run-steps li").allTextContents();
    assert.equal(shown.length, 2, shown.join("; "));
    assert.match(shown[0]!, /^review: w[0-9]+ w[0-9]+$/);
    assert.match(shown[1]!, /^synthesis: w[0-9]+$/);
  });

  test("the Stop button stops a running worker, which becomes canceled", async () => {
    const id = await spawn(
      "--label",
      "long",
      `keep busy\n${modelScriptLine(busy("echo still-going; sleep 120"))}`,
    );
    await stateIs(id, "running");
    await open(id, "transcript");
    await page.locator("#transcript").filter({ hasText: "still-going" }).waitFor({ timeout: WAIT_MS });
    await page.locator("#stop:enabled").click();
    await stateIs(id, "canceled");
    await page
      .locator("#action-note")
      .filter({ hasText: `stopped ${id}` })
      .waitFor({ timeout: WAIT_MS });
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
    assert.equal(result.state, "canceled");
    assert.equal(await page.locator("#stop").isDisabled(), true, "a finished worker cannot be stopped again");
  });

  test("a worker's answer and label holding markup are shown as text: no element is made, no script runs", async () => {
    const answer = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>bold?</b>`;
    const label = `<img src=y onerror="window.pwned = 3">`;
    const id = await spawn("--label", label, `say it\n${says(answer)}`);
    await stateIs(id, "succeeded");
    assert.equal(await cell(id, "label").textContent(), label);
    await open(id, "answer");
    await page.locator("#answer").filter({ hasText: "<script>" }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator("#answer").textContent(), answer);
    await open(id, "transcript");
    await page.locator("#transcript").filter({ hasText: "<img src=x" }).waitFor({ timeout: WAIT_MS });
    const found = await page.evaluate(() => ({
      pwned: (window as { pwned?: number }).pwned,
      images: document.images.length,
      scripts: document.scripts.length,
      bold: document.querySelectorAll("main b").length,
      violations: (window as unknown as { violations: string[] }).violations,
    }));
    assert.deepEqual(found, { pwned: undefined, images: 0, scripts: 1, bold: 0, violations: [] });
  });

  test("a writer's changed files and diff: an isolated writer's commit, and a writer's files in the checkout", async () => {
    const isolated = await spawn(
      "--isolate",
      "--write",
      "notes.txt",
      `edit notes\n${edits("notes.txt", "from ui")}`,
    );
    const inPlace = await spawn(
      "--write",
      "other.txt",
      `edit other\n${edits("other.txt", "changed in place")}`,
    );
    const reader = await spawn("--read-only", `just read\n${says("read it")}`);
    for (const id of [isolated, inPlace, reader]) await stateIs(id, "succeeded");
    await open(isolated, "changes");
    await page
      .locator("#changes-note")
      .filter({ hasText: /on branch baton\/w/ })
      .waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator("#changed-files").textContent(), "modified  notes.txt");
    assert.match((await page.locator("#diff").textContent()) ?? "", /-original\n\+from ui\n/);
    await open(inPlace, "changes");
    await page
      .locator("#changes-note")
      .filter({ hasText: /against HEAD/ })
      .waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator("#changed-files").textContent(), "modified  other.txt");
    assert.match((await page.locator("#diff").textContent()) ?? "", /-original\n\+changed in place\n/);
    await open(reader, "changes");
    await page
      .locator("#changes-note")
      .filter({ hasText: "a reader changes nothing" })
      .waitFor({ timeout: WAIT_MS });
  });

  test("after the supervisor goes away and another starts, the page follows the new one", async () => {
    await ws.ok(["shutdown"]);
    await page
      .locator("#connection")
      .filter({ hasNotText: /^live$/ })
      .waitFor({ timeout: WAIT_MS });
    const id = await spawn("--label", "after-restart", `again\n${says("back again")}`); // starts a supervisor
    await page
      .locator("#connection")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: WAIT_MS });
    await stateIs(id, "succeeded");
    assert.equal(await cell(id, "label").textContent(), "after-restart");
  });

  test("the event stream resumes after Last-Event-ID (a reconnect) and from ?since (a first load)", async () => {
    const state = JSON.parse((await http(`${ui.url}api/state`)).body) as { seq: number };
    assert.ok(state.seq > 10, `events so far: ${state.seq}`);
    const firstId = async (headers: Record<string, string>, query: string) => {
      const answer = await http(`${ui.url}events${query}`, { headers, until: /\nid: [0-9]+\n/ });
      assert.match(answer.headers["content-type"] ?? "", /^text\/event-stream/);
      return Number(/\nid: ([0-9]+)\n/.exec(answer.body)?.[1]);
    };
    assert.equal(await firstId({}, "?since=5"), 6);
    assert.equal(await firstId({ "Last-Event-ID": "9" }, "?since=5"), 10, "Last-Event-ID wins");
  });

  test("bad --port: one line naming the flag and the fix, exit 2; a port in use says so", async () => {
    for (const port of ["0", "65536", "80a", "1.5"]) {
      const result = await ws.baton(["ui", "--port", port]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^baton: --port must be a port number \(1 to 65535\), got "[^"]+".*\n$/);
    }
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const result = await ws.baton(["ui", "--port", String(port)]);
    taken.close();
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `baton: --port ${port} is in use: give another, or leave --port out for a free one\n`,
    );
  });

  test("only `baton ui` loads the web server: `baton ls` does not", async () => {
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from "node:module";
       register("data:text/javascript," + encodeURIComponent(
         "export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\\\n'); return next(url, context); }"));`,
    )}`;
    const result = await runNode(["--import", hook, CLI, "ls"], { env: ws.env, cwd: ws.dir });
    assert.equal(result.code, 0, result.stderr);
    const loaded = [...result.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => fileURLToPath(m[1]!));
    assert.ok(loaded.length > 3, result.stderr);
    // Hono is bundled into the chunk `baton ui` loads: its request class marks that chunk.
    const honoIn = (file: string) =>
      /\bclass HonoRequest\b|\bHonoRequest = class\b/.test(readFileSync(file, "utf8"));
    const bundle = join(ROOT, "dist/cli/bundle");
    assert.ok(
      readdirSync(bundle).some((name) => honoIn(join(bundle, name))),
      "the ui chunk holds Hono",
    );
    for (const file of loaded) assert.equal(honoIn(file), false, `baton ls loaded ${file}, which holds Hono`);
  });
});

describe("a writer's changes (src/worker/changes.ts), as the dashboard reads them", () => {
  let dir: string;
  const pwned = () => existsSync(join(dir, "PWNED"));
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-changes-"));
    git(dir, "init", "-q");
    for (const name of ["a.txt", "gone.txt", "link.txt"]) writeFileSync(join(dir, name), "original\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "start");
    // What a worker that could write the checkout may plant: programs git would run on a working tree
    // (a clean filter) or in a diff (textconv, an external diff), and a link to a file it cannot read.
    const touch = `touch ${join(dir, "PWNED")}`;
    git(dir, "config", "filter.evil.clean", touch);
    git(dir, "config", "diff.evil.textconv", touch);
    git(dir, "config", "diff.external", touch);
    writeFileSync(join(dir, ".gitattributes"), "* filter=evil diff=evil\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("files in the checkout: diffed in-process against HEAD; links, far paths and planted programs refused", async () => {
    writeFileSync(join(dir, "a.txt"), "changed\n");
    writeFileSync(join(dir, "new.txt"), "new\n");
    unlinkSync(join(dir, "gone.txt"));
    unlinkSync(join(dir, "link.txt"));
    symlinkSync("/etc/hostname", join(dir, "link.txt"));
    const changes = await workerChanges({
      cwd: dir,
      reported: [join(dir, "a.txt"), "new.txt", "gone.txt", "link.txt", "../elsewhere.txt", "/etc/hostname"],
    });
    assert.deepEqual(changes.from, { kind: "files", base: "HEAD" });
    assert.deepEqual(changes.files, [
      { path: "a.txt", change: "modified" },
      { path: "new.txt", change: "added" },
      { path: "gone.txt", change: "deleted" },
      { path: "link.txt", change: "not shown", note: "a symbolic link" },
      { path: "../elsewhere.txt", change: "not shown", note: "outside the worker's folder" },
      { path: "/etc/hostname", change: "not shown", note: "outside the worker's folder" },
    ]);
    assert.match(changes.diff, /--- a\/a.txt\n\+\+\+ b\/a.txt\n@@ -1,1 \+1,1 @@\n-original\n\+changed\n/);
    assert.match(changes.diff, /--- \/dev\/null\n\+\+\+ b\/new.txt\n/);
    assert.match(changes.diff, /--- a\/gone.txt\n\+\+\+ \/dev\/null\n/);
    assert.equal(pwned(), false, "no program planted in the repository ran");
  });

  test("an isolated writer's commit: two trees compared, no planted program runs", async () => {
    // The test's own git runs with the planted filter switched off: only Baton's must be proven.
    const own = (...args: string[]) => git(dir, "-c", "filter.evil.clean=cat", ...args);
    own("checkout", "-qb", "baton/w9-test");
    writeFileSync(join(dir, "a.txt"), "on the branch\n");
    own("commit", "-qam", "w9");
    const commit = git(dir, "rev-parse", "HEAD").trim();
    const changes = await workerChanges({
      cwd: dir,
      isolation: { branch: "baton/w9-test", commit, changedFiles: ["a.txt"], conflicts: [] },
      reported: [],
    });
    assert.deepEqual(changes.from, { kind: "commit", branch: "baton/w9-test", commit });
    assert.ok(
      changes.files.some((f) => f.path === "a.txt" && f.change === "modified"),
      JSON.stringify(changes.files),
    );
    assert.match(changes.diff, /-original\n\+on the branch\n/);
    assert.equal(pwned(), false, "no program planted in the repository ran");
    const forged = await workerChanges({
      cwd: dir,
      isolation: { branch: "b", commit: "--output=/tmp/x", changedFiles: [], conflicts: [] },
      reported: [],
    });
    assert.equal(forged.from.kind, "none");
  });
});
