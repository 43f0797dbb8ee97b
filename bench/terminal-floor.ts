// The baseline of the supervisor's CPU a worker in (b): the least a Node process spends to run one
// codex worker in a terminal of its own, measured in the same run. Run as a process of its own (as the
// supervisor is one), with the benchmark's environment (its scripted model, its CODEX_HOME):
//
//   node --import tsx bench/terminal-floor.ts N REPS DIR
//
// Each of REPS rounds starts N codex runs at once, with Baton's flags and the worker preamble, each in a
// terminal opened by this process and started by Baton's spawner (no fork of this process), its prompt
// as standard input through Baton's launcher, as an unconfined worker starts; it reads every byte of
// output and waits for every exit. Nothing else: no store, no events, no sandbox, no parsing. It
// prints one JSON line: this process's CPU (user + system) a worker in each round, in ms. Every answer
// is checked.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workerPrompt } from "../dist/index.js";
import { startAgent } from "../dist/supervisor/agent-terminal.js";
import { CODEX_BIN, codexArgs, expect, expectedAnswer, lastAgentMessage, ROOT } from "./common.ts";

const LAUNCHER = join(ROOT, "dist/native/baton-launch");

async function run(task: string, dir: string, env: Record<string, string>): Promise<string> {
  const prompt = join(dir, `${task.replaceAll(/\W+/g, "-")}.txt`);
  writeFileSync(prompt, workerPrompt(task, { kind: "read-only" }));
  const args = ["--stdin", prompt, "--", CODEX_BIN, ...codexArgs(dir, `${prompt}.last`)];
  const terminal = await startAgent("pty", { file: LAUNCHER, args, env }, dir);
  let output = "";
  terminal.onData((data) => {
    output += data;
  });
  await new Promise<void>((resolve) => terminal.onExit(() => resolve()));
  return output;
}

async function main(n: number, reps: number, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const perWorker: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const tasks = Array.from({ length: n }, (_, i) => `floor rep${rep} #${i}`);
    const before = process.cpuUsage();
    const outputs = await Promise.all(tasks.map((task) => run(task, dir, env)));
    const used = process.cpuUsage(before);
    outputs.forEach((output, i) => {
      const answer = lastAgentMessage(output.replaceAll("\r", ""));
      expect(answer === expectedAnswer(tasks[i]!), `floor run ${tasks[i]}: answer ${answer}`);
    });
    // The first round warms up (the spawner starts, the code is compiled), as the supervisor is warm.
    if (rep > 0) perWorker.push((used.user + used.system) / 1000 / n);
  }
  process.stdout.write(`${JSON.stringify({ perWorker })}\n`);
}

const [n, reps, dir] = process.argv.slice(2);
await main(Number(n), Number(reps), dir!);
process.exit(0);
