import type { Scope } from "./types.js";

/** The worker preamble from the orchestration guide; every worker prompt starts with it. */
export const WORKER_PREAMBLE = [
  "CONTEXT: WORKER",
  "ROLE: You are a sub-agent run by the ORCHESTRATOR. Do only the assigned task.",
  "RULES: No extra scope, no other workers.",
  "Your final output will be provided back to the ORCHESTRATOR.",
].join("\n");

export function scopeLine(scope: Scope): string {
  return scope.kind === "read-only" ? "SCOPE: read-only" : `SCOPE: may edit ${scope.paths.join(", ")}`;
}

/** The full prompt a worker's agent receives. */
export function workerPrompt(task: string, scope: Scope): string {
  return `${WORKER_PREAMBLE}\n${scopeLine(scope)}\nTASK: ${task}\n`;
}

/** What a worker continued in its own thread after its supervisor was lost is told (its resume.txt). */
export const RESUME_PROMPT = `Baton: your previous session was cut off before you finished (the process supervising you stopped).
Continue the same task from where you left off. Do not redo work that is already done.
End with your final answer, as the task asked.
`;
