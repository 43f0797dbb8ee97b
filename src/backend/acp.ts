import { relative } from "node:path";
import type { WorkerSpec } from "../worker/types.js";
import type { AcpConversationOptions } from "./acp-client.js";
import { acpParser } from "./acp-events.js";
import { errorLine } from "./acp-wire.js";
import type { AgentEvent, AgentOutcome, Backend, LaunchContext, LaunchPlan } from "./backend.js";
import type { Conversation, Converse } from "./pipes.js";
import { locateProgram } from "./program.js";

/** How one ACP agent is found and started: the generic `acp` (any `--agent-cmd`), or a preset. */
export interface AcpPreset {
  /** The backend's name: `acp`, `acp:gemini`, ... */
  readonly name: string;
  locate: Backend["locate"];
  /** The agent's command line and environment for one attempt, and who keeps its session id. */
  start(spec: WorkerSpec, context: LaunchContext): AcpStart;
  agentHomes: Backend["agentHomes"];
  /** Whether its sessions can be continued with `session/load`. @default true */
  readonly canResume?: boolean;
  /** The model the agent runs when the spec names none, where Baton can tell before it starts. */
  defaultModel?: Backend["defaultModel"];
}

export interface AcpStart {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly onSession?: (sessionId: string) => void;
}

/**
 * A backend that speaks the Agent Client Protocol with its agent, over pipes (acp-client.ts): the
 * answer is the agent's last message of the turn, usage what the prompt's response reports (and the
 * session's cost from `usage_update`), permission requests answered from the worker's scope, the
 * session id its thread, continued with `session/load` where the agent offers it, and a stop or an
 * interrupt is `session/cancel`. See docs/backends.md.
 */
export function acpBackend(preset: AcpPreset): Backend {
  return {
    name: preset.name,
    transport: "pipes",
    locate: preset.locate,
    // Where the agent offers `session/load`; one that does not fails the follow-up in one line.
    canResume: preset.canResume ?? true,
    // Its stdin carries the protocol: nothing can be typed to it.
    acceptsInput: () => false,
    agentHomes: preset.agentHomes,
    ...(preset.defaultModel ? { defaultModel: preset.defaultModel } : {}),
    parser: acpParser,
    outcome: acpOutcome,

    launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
      const { command, env, onSession } = preset.start(spec, context);
      const [file = spec.bin, ...args] = command;
      const writer = context.writeRoots.length > 0;
      const converse = lazyConversation({
        agent: preset.name === "acp" ? command.join(" ") : preset.name,
        cwd: spec.cwd,
        promptFile: context.promptFile,
        ...(context.resumeThreadId ? { resumeSessionId: context.resumeThreadId } : {}),
        additionalDirectories: context.writeRoots.filter((root) => relative(spec.cwd, root).startsWith("..")),
        scope: {
          cwd: spec.cwd,
          writer,
          writePaths: spec.scope.kind === "write" ? spec.scope.paths : [],
          search: spec.search === true,
        },
        ...(onSession ? { onSession } : {}),
      });
      return { file, args, env, converse };
    },
  };
}

/**
 * The conversation, with the protocol's SDK loaded when the agent starts: the commands that only read
 * a transcript (`logs`, `poll`) find this backend's parser without it.
 */
function lazyConversation(options: AcpConversationOptions): Converse {
  return (pipes) => {
    let conversation: Conversation | undefined;
    let interrupted = false;
    const done = import("./acp-client.js")
      .then(({ acpConversation }) => {
        conversation = acpConversation(options)(pipes);
        if (interrupted) conversation.interrupt();
        return conversation.done;
      })
      .catch((error: unknown) => pipes.record(errorLine(`Baton could not talk ACP: ${String(error)}`)));
    return {
      done,
      interrupt() {
        interrupted = true;
        conversation?.interrupt();
      },
    };
  };
}

/** The generic ACP backend: the agent is the program `--agent-cmd` names, with its arguments. */
export const acpGeneric: AcpPreset = {
  name: "acp",
  locate: ({ explicitBin, env, cwd }) =>
    locateProgram(explicitBin, { env, cwd, flag: "--agent-cmd", backend: "acp" }),
  start: (spec) => ({ command: [spec.bin, ...(spec.agentArgs ?? [])], env: {} }),
  agentHomes: () => [],
};

/**
 * How an ACP worker's turn ended: succeeded when the agent's answer to `session/prompt` came with stop
 * reason `end_turn` and a message after its last tool. Any other stop reason (`cancelled` by a stop or
 * an interrupt, `max_tokens`, `refusal`...), an error, or an agent that went away first, failed. A
 * turn that ended with no answer is worth running again (the Gemini CLI ends a turn whose model stream
 * broke off that way), as is an error that says the model failed on its side (a 5xx, a lost connection).
 */
export function acpOutcome(input: {
  readonly events: readonly AgentEvent[];
  readonly exitCode: number;
}): AgentOutcome {
  let answer: string | undefined;
  let turn: "none" | "open" | "completed" | "failed" = "none";
  let failure: string | undefined;
  let lastError: string | undefined;
  let costUsd: number | undefined;
  for (const event of input.events) {
    if (event.type === "message") answer = event.text;
    else if (event.type === "command" || event.type === "file_change" || event.type === "tool_call")
      answer = undefined;
    else if (event.type === "turn_started") {
      turn = "open";
      answer = undefined;
    } else if (event.type === "turn_completed") {
      turn = "completed";
      costUsd = event.costUsd;
    } else if (event.type === "turn_failed") {
      turn = "failed";
      failure = event.message;
    } else if (event.type === "error") lastError = event.message;
  }
  const answered = turn === "completed" && answer !== undefined && answer.trim() !== "";
  const error = answered
    ? undefined
    : turn === "completed"
      ? "the agent ended its turn without an answer"
      : turn === "failed"
        ? failure
        : (lastError ?? `the agent ended (exit ${input.exitCode}) before its turn did`);
  return {
    ok: answered,
    answer: answer ?? "",
    answerSource: answer === undefined ? "none" : "events",
    answerMismatch: false,
    error,
    transient: answered ? undefined : acpTransient(error),
    ...(costUsd === undefined ? {} : { costUsd }),
  };
}

/** Whether an ACP agent's account of a failure says the model failed on its side, or never answered. */
export function acpTransient(message: string | undefined): string | undefined {
  if (!message) return undefined;
  if (message === "the agent ended its turn without an answer") return message;
  if (/\b4\d\d\b/.test(message) && !/\b5\d\d\b/.test(message)) return undefined;
  const transient =
    /\b5\d\d\b|overloaded|fetch failed|ECONNRESET|ECONNREFUSED|socket hang up|timed? ?out|stream ended/i;
  return transient.test(message) ? message : undefined;
}
