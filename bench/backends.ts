import { chmodSync } from "node:fs";
import { join } from "node:path";
import { backendNamed } from "../dist/backend/registry.js";
import { Baton } from "../dist/index.js";
import {
  directiveScript,
  type ModelRequest,
  message,
  startScriptedChat,
  startScriptedGemini,
  startScriptedMessages,
} from "../dist/scripted-model/index.js";
import { CLAUDE_BIN } from "../test/support/claude.ts";
import { GEMINI_BIN } from "../test/support/gemini.ts";
import { OPENCODE_BIN } from "../test/support/opencode.ts";
import type { Subject } from "./backends-bare.ts";
import { type Figures, report } from "./backends-report.ts";
import { bareMemory, bareTimed, libraryMemory, libraryTimed, sleeping } from "./backends-runs.ts";
import { CODEX_BIN, expectedAnswer, log, ms, ROOT, type Section, type Workspace } from "./common.ts";
import { mib } from "./idle-memory.ts";

const TASK_LINE = /^TASK: (.*)$/m;
const answerTask = (request: ModelRequest) =>
  message(expectedAnswer(TASK_LINE.exec(request.userText)?.[1] ?? "?"));
/** The command backend's agent: prints when it started, answers `done: <task>`, or sleeps when told to stall. */
const ANSWER_AGENT = join(ROOT, "bench/fixtures/answer-agent.sh");

/** The model server got the request of the run whose task has `marker`. */
const asked = (requests: () => readonly ModelRequest[]) => (marker: string) =>
  requests().some((r) => r.userText.includes(marker));

/**
 * (k) One worker of each backend (codex, claude, gemini, acp:opencode, command): spawn to result through
 * the library against the same agent run bare, and the memory of one worker's processes against the
 * bare agent's. `codexModel` is the run's scripted Responses server (its requests), already in `ws.env`.
 */
export async function backends(
  ws: Workspace,
  root: string,
  codexModel: { readonly requests: readonly ModelRequest[] },
  reps = 7,
  memoryReps = 3,
): Promise<Section> {
  chmodSync(ANSWER_AGENT, 0o755);
  const messages = await startScriptedMessages({ script: directiveScript(answerTask) });
  const gemini = await startScriptedGemini({ script: directiveScript(answerTask) });
  const chat = await startScriptedChat({ script: directiveScript(answerTask) });
  // The workers' environment is the spawning client's: this client's adds the servers and binaries.
  const env = {
    ...ws.env,
    ...messages.env(),
    ...gemini.env(),
    BATON_CLAUDE_BIN: CLAUDE_BIN,
    BATON_GEMINI_BIN: GEMINI_BIN,
    BATON_OPENCODE_BIN: OPENCODE_BIN,
    OPENCODE_CONFIG_CONTENT: JSON.stringify(chat.opencodeConfig()),
  };
  const wsx: Workspace = { ...ws, env };
  const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env });
  const subject = (name: string, bin: string, waiting: Subject["waiting"], extra = {}): Subject => ({
    name,
    backend: backendNamed(name),
    bin,
    waiting,
    ...extra,
  });
  // The agent CLIs, each with the scripted model whose requests show that it was asked.
  const agents: [name: string, bin: string, requests: () => readonly ModelRequest[]][] = [
    ["codex", CODEX_BIN, () => codexModel.requests],
    ["claude", CLAUDE_BIN, () => messages.requests],
    ["gemini", GEMINI_BIN, () => gemini.requests],
    ["acp:opencode", OPENCODE_BIN, () => chat.requests],
  ];
  const subjects: Subject[] = [
    ...agents.map(([name, bin, requests]) => subject(name, bin, asked(requests))),
    subject("command", ANSWER_AGENT, (_, pids) => sleeping(pids), {
      spawn: { agentCommand: ANSWER_AGENT },
    }),
  ];
  const figures = new Map<string, Figures>(
    subjects.map((s) => [s.name, { bare: [], lib: [], bareKb: [], libKb: [] }]),
  );
  try {
    for (let rep = 0; rep <= reps; rep++) {
      for (const subject of subjects) {
        const f = figures.get(subject.name)!;
        const b = await bareTimed(subject, wsx, root, `backends ${subject.name} bare ${rep}`);
        const l = await libraryTimed(subject, baton, `backends ${subject.name} library ${rep}`);
        log(
          `(k) ${subject.name} ${rep === 0 ? "warm-up" : `rep ${rep}/${reps}`}: bare ${ms(b.ms)}, library ${ms(l.ms)}`,
        );
        if (rep === 0) continue;
        f.bare.push(b);
        f.lib.push(l);
      }
    }
    for (let rep = 0; rep < memoryReps; rep++) {
      for (const subject of subjects) {
        const f = figures.get(subject.name)!;
        const b = await bareMemory(subject, wsx, root, `backends-mem ${subject.name} bare ${rep}`);
        const l = await libraryMemory(subject, baton, `backends-mem ${subject.name} library ${rep}`);
        log(`(k) ${subject.name} memory ${rep + 1}/${memoryReps}: bare ${mib(b)}, worker ${mib(l)}`);
        f.bareKb.push(b);
        f.libKb.push(l);
      }
    }
  } finally {
    baton.close();
    await messages.close();
    await gemini.close();
    await chat.close();
  }
  return report(subjects, figures, reps, memoryReps);
}
