import { readFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { decide, optionFor, type PermissionScope } from "./acp-permission.js";
import { errorLine, errorText, messageLine, toolCall } from "./acp-wire.js";
import type { AgentPipes, Conversation, Converse } from "./pipes.js";

/** What one worker's ACP conversation needs to know. */
export interface AcpConversationOptions {
  /** The agent as the worker's messages name it ("gemini --acp", or the program given). */
  readonly agent: string;
  readonly cwd: string;
  readonly promptFile: string;
  /** Continue this session (`session/load`) instead of starting one. */
  readonly resumeSessionId?: string;
  /** Folders of the scope outside the cwd, offered to the session as more roots. */
  readonly additionalDirectories: readonly string[];
  readonly scope: PermissionScope;
  /** Told the session's id as soon as the agent gives it (a preset keeps where its home is). */
  readonly onSession?: (sessionId: string) => void;
}

/**
 * Baton as an Agent Client Protocol client (the official SDK): `initialize`, then `session/new` (or
 * `session/load` to continue a thread, where the agent offers it), then one `session/prompt` with the
 * worker's prompt; permission requests are answered from the worker's scope (acp-permission.ts), and
 * an interrupt sends `session/cancel`. Every message either way is recorded as a transcript line
 * (acp-wire.ts). Baton offers the agent neither its file system nor terminals: the agent uses its
 * own, inside Baton's sandbox.
 */
export function acpConversation(options: AcpConversationOptions): Converse {
  return (pipes: AgentPipes): Conversation => {
    const state: State = { interrupted: false, prompting: false, step: "initialize" };
    const connection = connect(pipes, options.scope, state);
    state.connection = connection;
    const done = talk(connection.agent, options, state)
      .catch((error: unknown) => pipes.record(errorLine(`${state.step} failed: ${describe(error)}`)))
      .finally(() => connection.close());
    return {
      done: done.then(() => {}),
      interrupt() {
        state.interrupted = true;
        if (state.prompting && state.sessionId) {
          void connection.agent
            .notify(acp.methods.agent.session.cancel, { sessionId: state.sessionId })
            .catch(() => {});
        } else if (!state.prompting) {
          connection.close(new Error("interrupted before the prompt was sent"));
        }
      },
    };
  };
}

interface State {
  interrupted: boolean;
  prompting: boolean;
  /** The request under way, for the account of a failure. */
  step: string;
  sessionId?: string;
  connection?: acp.ClientConnection;
}

async function talk(agent: acp.ClientContext, options: AcpConversationOptions, state: State): Promise<void> {
  const init = await agent.request(acp.methods.agent.initialize, {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
  });
  if (state.interrupted) return;
  const roots = options.additionalDirectories.length
    ? { additionalDirectories: [...options.additionalDirectories] }
    : {};
  let sessionId: string;
  if (options.resumeSessionId) {
    state.step = "session/load";
    if (!init.agentCapabilities?.loadSession) {
      throw new Error(
        `${options.agent} cannot continue a session (it does not offer session/load): spawn a new worker instead`,
      );
    }
    sessionId = options.resumeSessionId;
    await agent.request(acp.methods.agent.session.load, {
      sessionId,
      cwd: options.cwd,
      mcpServers: [],
      ...roots,
    });
  } else {
    state.step = "session/new";
    const session = await agent.request(acp.methods.agent.session.new, {
      cwd: options.cwd,
      mcpServers: [],
      ...roots,
    });
    sessionId = session.sessionId;
  }
  state.sessionId = sessionId;
  options.onSession?.(sessionId);
  if (state.interrupted) return;
  const text = readFileSync(options.promptFile, "utf8");
  state.prompting = true;
  state.step = "session/prompt";
  await agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });
}

/** The SDK's client on the agent's pipes, every message recorded on its way in or out. */
function connect(pipes: AgentPipes, scope: PermissionScope, state: State): acp.ClientConnection {
  const wire = acp.ndJsonStream(
    Writable.toWeb(pipes.stdin) as WritableStream<Uint8Array>,
    Readable.toWeb(pipes.stdout) as ReadableStream<Uint8Array>,
  );
  const incoming = wire.readable.pipeThrough(
    new TransformStream<acp.AnyMessage, acp.AnyMessage>({
      transform(message, controller) {
        pipes.record(messageLine("agent", message));
        controller.enqueue(message);
      },
    }),
  );
  const outgoing = new TransformStream<acp.AnyMessage, acp.AnyMessage>({
    transform(message, controller) {
      pipes.record(messageLine("baton", message));
      controller.enqueue(message);
    },
  });
  void outgoing.readable.pipeTo(wire.writable).catch(() => {});
  const app = acp
    .client({ name: "baton" })
    .onRequest(acp.methods.client.session.requestPermission, ({ params }) => {
      const call = toolCall.safeParse(params.toolCall);
      const decision = state.interrupted
        ? { allowed: false, why: "the turn is being cancelled" }
        : call.success
          ? decide(call.data, scope)
          : { allowed: false, why: "Baton could not read the tool call" };
      const optionId = optionFor(params.options, decision.allowed);
      const meta = { "baton/allowed": decision.allowed && optionId !== undefined, "baton/why": decision.why };
      // Cancelled is what a client answers once the turn is cancelled, and all that is left when the
      // agent offers no option of the kind Baton chose.
      return state.interrupted || !optionId
        ? { outcome: { outcome: "cancelled" as const }, _meta: meta }
        : { outcome: { outcome: "selected" as const, optionId }, _meta: meta };
    })
    .onNotification(acp.methods.client.session.update, () => {});
  return app.connect({ readable: incoming, writable: outgoing.writable });
}

function describe(error: unknown): string {
  if (error instanceof acp.RequestError) return errorText(error);
  return error instanceof Error ? error.message : String(error);
}
