import type { ModelRequest, Script, ScriptStep } from "./steps.js";

const SCRIPT_LINE = /^MODEL-SCRIPT: (.+)$/m;

/**
 * A script that reads its steps from the worker's own prompt, so one model server can drive many
 * different workers. A prompt line `MODEL-SCRIPT: [step, step, ...]` (JSON) gives the step for each
 * request of that worker's session in turn; an element may itself be an array of steps. The text of
 * a `message` step may contain `{{output}}`, replaced by the output of the last tool codex ran, and
 * `{{outputs:N}}`, replaced by the outputs of the last N tools, one per line.
 * Without such a line, or past its end, the model answers `fallback(request)`.
 */
export function directiveScript(fallback: Script = () => ({ type: "message", text: "done" })): Script {
  // How often each (script, turn) was asked for, over all sessions: what `attempts` steps go by.
  const asked = new Map<string, number>();
  return (request: ModelRequest) => {
    const match = SCRIPT_LINE.exec(request.userText);
    if (!match?.[1]) return fallback(request);
    const steps = JSON.parse(match[1]) as DirectiveStep[];
    let step = steps[request.turn];
    if (step === undefined) return fallback(request);
    if (isAttempts(step)) {
      const key = `${request.turn}:${match[1]}`;
      const n = asked.get(key) ?? 0;
      asked.set(key, n + 1);
      step = step.steps[Math.min(n, step.steps.length - 1)] ?? { type: "message", text: "done" };
    }
    const list = (Array.isArray(step) ? step : [step]) as ScriptStep[];
    return list.map((s) =>
      s.type === "message"
        ? {
            ...s,
            text: s.text
              .replaceAll("{{output}}", commandOutput(request.lastToolOutput))
              .replace(/\{\{outputs:([0-9]+)\}\}/g, (_, n: string) =>
                request.toolOutputs.slice(-Number(n)).map(commandOutput).join("\n"),
              ),
          }
        : s,
    );
  };
}

/**
 * A step of a directive script: a step, several steps at once, or `attempts`, which plays its n-th
 * element the n-th time this turn of this script is asked for, in any session (so a worker's retry
 * or resume meets a different model than its first attempt did).
 */
export type DirectiveStep =
  | ScriptStep
  | readonly ScriptStep[]
  | { readonly type: "attempts"; readonly steps: readonly (ScriptStep | readonly ScriptStep[])[] };

function isAttempts(step: DirectiveStep): step is Extract<DirectiveStep, { type: "attempts" }> {
  return !Array.isArray(step) && (step as { type?: string }).type === "attempts";
}

/** The prompt line that makes {@link directiveScript} play `steps`. */
export function modelScriptLine(steps: readonly DirectiveStep[]): string {
  return `MODEL-SCRIPT: ${JSON.stringify(steps)}`;
}

/**
 * The tool's own output, without the header codex wraps it in: chunk id, wall time and exit code,
 * then `Output:` and a newline for a command; wall time, then `Output:` with no newline for an MCP tool.
 */
export function commandOutput(toolOutput: string | undefined): string {
  if (toolOutput === undefined) return "";
  const header = /^(?:[^\n]*\n)*?Output:\n?/.exec(toolOutput);
  return header && /^(Chunk ID|Wall time):/.test(toolOutput)
    ? toolOutput.slice(header[0].length)
    : toolOutput;
}
