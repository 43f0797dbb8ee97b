import { modelScriptLine, type ScriptStep } from "../dist/scripted-model/index.js";
import { connectMcp } from "../test/support/harness.ts";
import { expect, log, median, ROOT, ratio, type Section, verdict, type Workspace } from "./common.ts";

// (e) What a lead agent takes into its context per worker: Baton's `result` (the final answer only)
// against reading the worker's whole terminal, as a lead juggling raw `codex exec` terminals would.

const TARGET = 10;

/** Workers that work the way the guide's templates do: look around with the shell, then report. */
const WORKERS: readonly {
  readonly kind: string;
  readonly commands: readonly string[];
  readonly answer: string;
}[] = [
  {
    kind: "scout",
    commands: [`ls -R ${ROOT}/src`, `grep -rn "export function" ${ROOT}/src | head -80`],
    answer: [
      "Config is loaded in three places:",
      "- src/store/home.ts resolveHome(): BATON_HOME, else the nearest .baton, else ./.baton",
      "- src/context/load.ts loadContextPack(): YAML or Markdown context packs",
      "- src/roles/load.ts loadTemplate(): role templates from .baton/templates/",
      "Entry points: src/cli/main.ts (CLI), src/client/baton.ts (library), src/mcp/server.ts (MCP).",
      "Nothing else reads configuration files.",
    ].join("\n"),
  },
  {
    kind: "reviewer",
    commands: [`cat ${ROOT}/src/client/baton.ts`, `cat ${ROOT}/src/supervisor/server.ts`],
    answer: [
      "Top findings (ranked):",
      "1. [medium] Baton.logs reads the whole transcript into memory; a 1 GB transcript would be read whole.",
      "   Evidence: src/client/baton.ts logs(). Fix: stream it, or read a bounded tail.",
      "2. [low] poll's default of 16 KiB is generous for an agent's context.",
      "   Evidence: DEFAULT_POLL_BYTES. Fix: a smaller default for agents (the MCP tool uses 4 KiB).",
      "3. [low] Errors name the worker but not the store path. Fix: add it where a file is involved.",
    ].join("\n"),
  },
  {
    kind: "verifier",
    commands: [`cd ${ROOT} && node --version && ls test && wc -l src/*/*.ts | tail -40`],
    answer: [
      "PASS: the change meets the success check.",
      "- Checked: the tests listed under test/ exist for every module touched.",
      "- No regressions seen in the line counts of the modules involved.",
      "Follow-up: none.",
    ].join("\n"),
  },
];

const steps = (commands: readonly string[], answer: string): ScriptStep[] => [
  ...commands.map((command): ScriptStep => ({ type: "shell", command })),
  { type: "message", text: answer },
];

export async function contextEconomy(ws: Workspace, rounds = 2): Promise<Section> {
  log(`context economy: ${WORKERS.length * rounds} workers`);
  const client = await connectMcp(ws, { name: "bench" });
  try {
    const measured: { kind: string; answer: number; transcript: number }[] = [];
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as { content: { text: string }[] };
      return result.content.map((c) => c.text).join("");
    };
    const ids: { id: string; kind: string; answer: string }[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const worker of WORKERS) {
        const task = `${worker.kind} ${round}\n${modelScriptLine(steps(worker.commands, worker.answer))}`;
        ids.push({ id: await call("spawn", { task, role: worker.kind as never }), ...worker });
      }
    }
    await ws.baton.wait(ids.map((w) => w.id));
    for (const worker of ids) {
      const answer = await call("result", { id: worker.id });
      expect(answer === worker.answer, `${worker.id}: unexpected answer ${answer.slice(0, 80)}`);
      const transcript = await ws.baton.logs(worker.id);
      measured.push({
        kind: worker.kind,
        answer: Buffer.byteLength(answer),
        transcript: Buffer.byteLength(transcript),
      });
    }
    const ratios = measured.map((m) => m.transcript / m.answer);
    const overall =
      measured.reduce((s, m) => s + m.transcript, 0) / measured.reduce((s, m) => s + m.answer, 0);
    const rows = WORKERS.map((worker) => {
      const mine = measured.filter((m) => m.kind === worker.kind);
      const answer = median(mine.map((m) => m.answer));
      const transcript = median(mine.map((m) => m.transcript));
      return [worker.kind, `${mine.length}`, `${answer} B`, `${transcript} B`, ratio(transcript / answer)];
    });
    const total = (pick: (m: (typeof measured)[number]) => number) =>
      measured.reduce((s, m) => s + pick(m), 0);
    rows.push([
      "all",
      `${measured.length}`,
      `${total((m) => m.answer)} B in all`,
      `${total((m) => m.transcript)} B in all`,
      ratio(overall),
    ]);
    const pass = median(ratios) >= TARGET;
    return {
      title: "(e) Context economy: what a lead reads per worker",
      about: [
        `${measured.length} workers of three kinds (scout, reviewer, verifier), each running real shell commands ` +
          "over this repository before it answers, as the worker templates ask; the scripted model plays the " +
          "worker's model. Baton: the bytes of the MCP `result` tool's answer, read through `baton mcp` with the " +
          "SDK's client, which is all a lead following the skill takes in. Baseline: the bytes of the worker's whole " +
          "terminal (`baton logs`, the `codex exec --json` stream), which is what a lead reads when it runs " +
          "`codex exec` in terminals and polls them to the end. Every answer is checked.",
      ],
      columns: ["worker", "runs", "final answer (Baton)", "full transcript", "transcript / answer"],
      rows,
      targets: [
        {
          name: "(e) context economy, transcript bytes per answer byte (median)",
          figure: ratio(median(ratios)),
          target: `≥ ${TARGET}x`,
          pass,
        },
      ],
      notes: [
        `Median ratio ${ratio(median(ratios))} (${verdict(pass)}); over all workers ${ratio(overall)}. Reproduce this section alone with ` +
          "`npm run bench -- context-economy`.",
      ],
    };
  } finally {
    await client.close();
  }
}
