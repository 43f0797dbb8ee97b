import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import { progressPrinter } from "../../pattern/index.js";
import { resolveHome } from "../../store/home.js";
import { WORKER_ID } from "../../store/store.js";
import { resumeRun } from "../../workflow/index.js";
import { type GlobalOptions, printJson, withBaton, writeOut } from "../context.js";
import { runToResult } from "./run.js";

const RUN_ID = /^r[1-9][0-9]{0,8}$/;

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
    .action(async (ids: string[], opts) => {
      const runs = ids.filter((id) => RUN_ID.test(id));
      if (runs.length > 0) {
        if (ids.length > 1) throw new BatonError("usage", "resume one run at a time, and no workers with it");
        const home = global().home ?? resolveHome();
        await runToResult(home, process.cwd(), opts, (baton, signal) =>
          resumeRun(baton, runs[0]!, { signal, onEvent: progressPrinter(process.stderr) }),
        );
        return;
      }
      const bad = ids.find((id) => !WORKER_ID.test(id));
      if (bad) {
        throw new BatonError(
          "usage",
          `"${bad}" is neither a worker id (w1, w2, ...) nor a run id (r1, r2, ...)`,
        );
      }
      const resumed = await withBaton(global(), (baton) => baton.resume(ids));
      if (opts.json) printJson({ resumed });
      else if (resumed.length === 0) process.stdout.write("no lost workers to resume\n");
      else {
        for (const r of resumed) {
          writeOut(
            r.how === "thread"
              ? `${r.id} resumed in its thread ${r.threadId}\n`
              : `${r.id} runs again from the start (no thread was recorded)\n`,
          );
        }
      }
    });
}
