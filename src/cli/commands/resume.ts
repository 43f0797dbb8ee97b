import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import { WORKER_ID } from "../../store/store.js";
import { type GlobalOptions, printJson, withBaton } from "../context.js";

export function registerResume(program: Command, global: () => GlobalOptions): void {
  program
    .command("resume")
    .description(
      "continue lost workers (their supervisor died), each in its own recorded thread; default: every lost worker",
    )
    .argument("[ids...]", "worker ids (w1 ...)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
A codex worker continues with \`codex exec resume <its thread id>\` (never --last, which could pick
another worker's session); a worker with no recorded thread runs again from the start.`,
    )
    .action(async (ids: string[], opts) => {
      const bad = ids.find((id) => !WORKER_ID.test(id));
      if (bad) throw new BatonError("usage", `"${bad}" is not a worker id: ids look like w1, w2, ...`);
      const resumed = await withBaton(global(), (baton) => baton.resume(ids));
      if (opts.json) printJson({ resumed });
      else if (resumed.length === 0) process.stdout.write("no lost workers to resume\n");
      else {
        for (const r of resumed) {
          process.stdout.write(
            r.how === "thread"
              ? `${r.id} resumed in its thread ${r.threadId}\n`
              : `${r.id} runs again from the start (no thread was recorded)\n`,
          );
        }
      }
    });
}
