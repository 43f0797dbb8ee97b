import type { WorkerSpec } from "../worker/types.js";
import type {
  AgentEvent,
  AgentOutcome,
  Backend,
  LaunchContext,
  LaunchPlan,
  OutputParser,
} from "./backend.js";
import { locateProgram } from "./program.js";
import { readAgentFile } from "./untrusted-file.js";

/** The sysexits code for "try again later": the one exit code Baton retries. */
export const EX_TEMPFAIL = 75;
/** The last paragraph kept while the output runs (a longer one keeps its end). */
const MAX_PARAGRAPH_CHARS = 1024 * 1024;
/** Terminal escape sequences (colours, cursor moves, titles): not part of an answer. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * Runs any program as a worker (`--backend command --cmd "my-agent --flag"`): in a pseudo-terminal
 * like the other agents, its prompt on stdin from a file, inside Baton's sandbox. Its answer is the
 * file it wrote at `$BATON_ANSWER_FILE` (in its store folder, written in place), else the last
 * paragraph of what it printed; it succeeded if it exited 0. It reports no tokens: its usage stays zero. See docs/backends.md.
 */
export const commandBackend: Backend = {
  reportsUsage: false,
  name: "command",
  transport: "pty",

  locate: ({ explicitBin, env, cwd }) =>
    locateProgram(explicitBin, { env, cwd, flag: "--cmd", backend: "command" }),

  // No thread: a follow-up has nothing to continue, and a lost worker runs again from the start.
  canResume: false,

  // A program Baton does not know may read its terminal (`baton send`).
  acceptsInput: () => true,

  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
    return {
      file: spec.bin,
      args: [...(spec.agentArgs ?? [])],
      stdin: context.promptFile,
      env: {
        BATON_ANSWER_FILE: context.lastMessageFile,
        ...(context.outputSchemaFile ? { BATON_ANSWER_SCHEMA: context.outputSchemaFile } : {}),
        ...(spec.model ? { BATON_MODEL: spec.model } : {}),
      },
    };
  },

  agentHomes: () => [],

  parser: () => new ParagraphParser(),

  outcome({ events, exitCode, lastMessageFile }): AgentOutcome {
    const written = lastMessageFile ? readAgentFile(lastMessageFile)?.trim() : undefined;
    let printed: string | undefined;
    for (const event of events) if (event.type === "message") printed = event.text;
    const answer = written || printed;
    const ok = exitCode === 0;
    const error = ok ? undefined : `the command exited ${exitCode}${printed ? `: ${lastLine(printed)}` : ""}`;
    return {
      ok,
      answer: answer ?? "",
      answerSource: written ? "last-message-file" : printed ? "events" : "none",
      answerMismatch: false,
      error,
      transient:
        exitCode === EX_TEMPFAIL
          ? `the command exited ${EX_TEMPFAIL} (EX_TEMPFAIL: try again later)`
          : undefined,
    };
  },
};

/**
 * Keeps the last paragraph of a command's output (lines between blank lines, colour codes removed),
 * and gives it as one `message` event when the output ends: the answer of a command that wrote no
 * answer file. In a terminal, stderr is mixed in with stdout, as it is for a person.
 */
export class ParagraphParser implements OutputParser {
  private current: string[] = [];
  private currentChars = 0;
  private last: string | undefined;

  line(text: string): AgentEvent[] {
    const plain = text.replace(ESCAPES, "").trimEnd();
    if (plain.trim() === "") {
      this.close();
      return [];
    }
    this.current.push(plain);
    this.currentChars += plain.length + 1;
    while (this.currentChars > MAX_PARAGRAPH_CHARS && this.current.length > 1) {
      this.currentChars -= (this.current.shift() ?? "").length + 1;
    }
    return [];
  }

  end(): AgentEvent[] {
    this.close();
    return this.last === undefined ? [] : [{ type: "message", text: this.last }];
  }

  private close(): void {
    if (this.current.length > 0) this.last = this.current.join("\n");
    this.current = [];
    this.currentChars = 0;
  }
}

function lastLine(text: string): string {
  return text.split("\n").at(-1) ?? "";
}
