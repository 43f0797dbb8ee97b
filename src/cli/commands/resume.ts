import type { Command } from "commander";
import type { GlobalOptions } from "../context.js";

// What resume does is in ../actions/resume.ts, loaded only when it runs.

export function registerResume(program: Command, global: () => GlobalOptions): void {
  program
    .command("resume")
    .description(
      "continue lost workers (their supervisor died), each in its own recorded thread; default: every lost worker",
    )
    .argument("[ids...]", "lost worker ids (w1 ...), or one run id (r1) to continue that run")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
\`baton resume r3\` continues run r3 (a pattern or workflow file killed or stopped part way): workers
that finished are used as they are, lost ones resume in their threads, canceled ones run again.

A codex worker continues with \`codex exec resume <its thread id>\` (never --last, which could pick
another worker's session); a worker with no recorded thread runs again from the start.`,
    )
    .action(async (ids: string[], opts) =>
      (await import("../actions/resume.js")).resume(global(), ids, opts),
    );
}
