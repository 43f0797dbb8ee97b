import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { reasonText } from "../cli/render.js";
import { Baton } from "../client/baton.js";
import { confiner } from "../confine/index.js";
import { isBatonError } from "../errors.js";
import { textFor } from "../render/terminal-text.js";
import { type ScriptedModel, startScriptedModel } from "../scripted-model/index.js";
import { totalTokens, type WorkerInfo, type WorkerResult } from "../worker/types.js";
import { type AgentServers, bundledAgents, mixedReview, startAgentServers } from "./mixed-review.js";
import { progressView } from "./progress.js";
import { demoScript, demoWorkers, writeSampleProject } from "./workers.js";

// Runs three real codex workers against a scripted model on loopback, then a review whose lenses run on
// codex, Claude Code and the Gemini CLI (when installed), each against its own scripted server: no
// account, no network.

const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const RENDER_INTERVAL_MS = 300;
const SUPERVISOR_EXIT_MS = 15_000;

/** What the demo has set up so far, so that cleanup can undo exactly that. */
interface Resources {
  dir?: string;
  home?: string;
  model?: ScriptedModel;
  agents?: AgentServers;
  baton?: Baton;
}

async function runDemo(resources: Resources, signal: AbortSignal): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "baton-demo-"));
  resources.dir = dir;
  const codexHome = join(dir, "codex-home");
  const home = join(dir, "baton-home");
  const project = join(dir, "project");
  await mkdir(project);
  await writeSampleProject(project);

  const model = await startScriptedModel({ script: demoScript() });
  resources.model = model;
  await model.writeCodexHome(codexHome);
  // Claude Code and the Gemini CLI are devDependencies: with them, part two reviews on three models.
  const bins = bundledAgents(ROOT);
  const agents = bins ? await startAgentServers(bins) : undefined;
  resources.agents = agents;

  resources.home = home;
  const baton = await Baton.open({
    home,
    cwd: project,
    env: {
      ...process.env,
      CODEX_HOME: codexHome,
      SCRIPTED_KEY: "demo",
      BATON_IDLE_EXIT_MS: "30000",
      ...agents?.env,
    },
    signal,
  });
  resources.baton = baton;

  console.log(`Baton demo: three codex workers on a sample project in ${project}`);
  console.log(`(the model is scripted, served at ${model.baseUrl})\n`);
  const ids = await spawnWorkers(baton, signal);
  const finished = await watchUntilDone(baton, ids, signal);
  const results = await Promise.all(ids.map((id) => baton.result(id, signal)));
  printResults(results);
  const ok = finished.every((w) => w.state === "succeeded");
  if (!agents) {
    console.log(
      "\n(Claude Code and the Gemini CLI are not installed here: `npm install` adds them, and the demo\n" +
        "then also runs one review with its lenses on codex, claude and gemini.)",
    );
    return ok;
  }
  // A fresh copy: part one fixed the bug in its own.
  const copy = join(dir, "project-copy");
  await mkdir(copy);
  await writeSampleProject(copy);
  console.log("\nPart two: one review of a fresh copy, three models. The correctness lens runs on codex,");
  console.log(
    "security on Claude Code and performance on the Gemini CLI, each against its own scripted server.\n",
  );
  const review = await mixedReview(baton, copy, bundledCodexBin(), signal);
  console.log(`\n${textFor(process.stdout, review.markdown.trim())}`);
  return ok;
}

async function spawnWorkers(baton: Baton, signal: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  const confined = confiner();
  if (!confined.ok) {
    console.log(`(${confined.why}: the demo's writer runs --unconfined; install bubblewrap to confine it)\n`);
  }
  for (const worker of demoWorkers(bundledCodexBin(), !confined.ok)) {
    try {
      ids.push(await baton.spawn(worker, signal));
    } catch (error) {
      if (isBatonError(error) && error.code === "backend") {
        throw new Error(`codex is not installed: run \`npm install\` in ${ROOT} first`);
      }
      throw error;
    }
  }
  return ids;
}

/** The native codex the `@openai/codex` devDependency installed, if it is there. */
function bundledCodexBin(): string | undefined {
  const vendor = join(ROOT, "node_modules/@openai", `codex-${process.platform}-${process.arch}`, "vendor");
  let triples: string[] = [];
  try {
    triples = readdirSync(vendor);
  } catch {
    return undefined;
  }
  return triples.map((triple) => join(vendor, triple, "bin", "codex")).find((bin) => existsSync(bin));
}

/** Renders progress until every worker has ended; `wait` says when, the listing says how it goes. */
async function watchUntilDone(
  baton: Baton,
  ids: string[],
  signal: AbortSignal,
): Promise<readonly WorkerInfo[]> {
  const view = progressView(process.stdout);
  const allEnded = baton.wait(ids, {}, signal);
  let ended = false;
  // Only a flag and a wake-up: a failed wait is reported by the `await allEnded` below.
  const settled = allEnded.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  while (!ended) {
    const { workers } = await baton.list(signal);
    view.update(workers.filter((w) => ids.includes(w.id)));
    await Promise.race([delay(RENDER_INTERVAL_MS, undefined, { signal }), settled]);
  }
  const { workers } = await allEnded;
  view.update(workers);
  return workers;
}

function printResults(results: readonly WorkerResult[]): void {
  for (const result of results) {
    // What the workers and the model wrote is shown, never obeyed, on a terminal.
    const shown = (text: string) => textFor(process.stdout, text);
    const title = `${result.id} · ${result.role ?? "worker"} · ${shown(result.label ?? "")}`;
    console.log(`\n── ${title} ${"─".repeat(Math.max(3, 72 - title.length))}`);
    if (result.state !== "succeeded") console.log(`(${shown(reasonText(result))})`);
    console.log(shown(result.answer.trim()) || "(no answer)");
  }
  const tokens = results.reduce((sum, r) => sum + totalTokens(r.usage), 0);
  const succeeded = results.filter((r) => r.state === "succeeded").length;
  console.log(`\nTotal tokens: ${tokens.toLocaleString("en-US")}`);
  console.log(`${succeeded} of ${results.length} workers succeeded.`);
}

/** Stops the workers and the supervisor, then removes everything the demo created. */
async function cleanUp(resources: Resources): Promise<void> {
  if (resources.home) await stopSupervisor(resources.home, resources.baton);
  await resources.model?.close();
  await resources.agents?.close();
  if (resources.dir) await rm(resources.dir, { recursive: true, force: true });
}

async function stopSupervisor(home: string, baton: Baton | undefined): Promise<void> {
  const pid = supervisorPid(home);
  const asked = await askToShutDown(baton);
  if (pid === undefined) return;
  // The daemon treats SIGTERM like a shutdown request, for when the connection is gone.
  if (!asked) signalProcess(pid, "SIGTERM");
  // `shutdown` answers before the daemon has stopped its workers, and the store must outlive them.
  const deadline = Date.now() + SUPERVISOR_EXIT_MS;
  while (signalProcess(pid, 0) && Date.now() < deadline) await delay(50);
  signalProcess(pid, "SIGKILL");
}

/** False without a live connection: an aborted request closes it. */
async function askToShutDown(baton: Baton | undefined): Promise<boolean> {
  if (!baton) return false;
  try {
    await baton.shutdown();
    return true;
  } catch {
    return false;
  } finally {
    baton.close();
  }
}

function supervisorPid(home: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(home, "supervisor.json"), "utf8")) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`; false if there is no such process. */
function signalProcess(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const resources: Resources = {};
  const interrupt = new AbortController();
  process.on("SIGINT", () => {
    if (interrupt.signal.aborted) process.exit(130); // a second Ctrl+C: stop waiting for cleanup
    process.stderr.write("\ndemo: interrupted, stopping the workers...\n");
    interrupt.abort();
  });
  try {
    return (await runDemo(resources, interrupt.signal)) ? 0 : 1;
  } catch (error) {
    // Once interrupted, whatever was in flight fails with an abort: that is the point, not an error.
    if (interrupt.signal.aborted) return 130;
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await cleanUp(resources).catch((error: unknown) => {
      process.stderr.write(
        `demo: cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  }
}

process.exitCode = await main();
