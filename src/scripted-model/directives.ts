import type { ModelRequest, Script, ScriptStep } from "./steps.js";

const SCRIPT_LINE = /^MODEL-SCRIPT: (.+)$/m;

/**
 * A script that reads its steps from the worker's own prompt, so one model server can drive many
 * different workers. A prompt line `MODEL-SCRIPT: [step, step, ...]` (JSON) gives the step for each
 * request of that worker's session in turn; an element may itself be an array of steps. The text of
 * a `message` step may contain `{{output}}`, replaced by the output of the last command codex ran.
 * Without such a line, or past its end, the model answers `fallback(request)`.
 */
export function directiveScript(fallback: Script = () => ({ type: "message", text: "done" })): Script {
  return (request: ModelRequest) => {
    const match = SCRIPT_LINE.exec(request.userText);
    if (!match?.[1]) return fallback(request);
    const steps = JSON.parse(match[1]) as (ScriptStep | ScriptStep[])[];
    const step = steps[request.turn];
    if (step === undefined) return fallback(request);
    const list = Array.isArray(step) ? step : [step];
    return list.map((s) =>
      s.type === "message"
        ? { ...s, text: s.text.replaceAll("{{output}}", commandOutput(request.lastToolOutput)) }
        : s,
    );
  };
}

/** The prompt line that makes {@link directiveScript} play `steps`. */
export function modelScriptLine(steps: readonly (ScriptStep | readonly ScriptStep[])[]): string {
  return `MODEL-SCRIPT: ${JSON.stringify(steps)}`;
}

/** The command's own output, without the header codex wraps it in (chunk id, wall time, exit code). */
export function commandOutput(toolOutput: string | undefined): string {
  if (toolOutput === undefined) return "";
  const marker = toolOutput.indexOf("\nOutput:\n");
  return marker >= 0 ? toolOutput.slice(marker + "\nOutput:\n".length) : toolOutput;
}
