import { resolve } from "node:path";
import { refuseInsideWorker } from "../../client/baton.js";
import { readWorkspaceConfig } from "../../client/workspace-config.js";
import { BatonError } from "../../errors.js";
import { MAX_PROMPT_BYTES } from "../../protocol/limits.js";
import type { Role } from "../../worker/types.js";
import { type GlobalOptions, ioOf, printJson, withBaton } from "../context.js";
import { limitSettings } from "../limits.js";
import { promptSettings } from "../prompt-settings.js";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new BatonError(
      "usage",
      "the prompt is `-` but stdin is a terminal: pipe the prompt in, or give it as an argument",
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end, so that the writer never meets a closed pipe; keep no more than the limit.
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PROMPT_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_PROMPT_BYTES) {
    throw new BatonError(
      "usage",
      `the prompt on stdin is ${mib(size)}, more than the ${mib(MAX_PROMPT_BYTES)} a prompt may be: ` +
        "point the worker to files instead of pasting them",
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BatonError(
      "usage",
      "the prompt on stdin is not valid UTF-8: convert it to UTF-8 (e.g. with iconv)",
    );
  }
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** `baton spawn`'s flags as commander parses them (declared in ../commands/spawn.ts). */
export interface SpawnFlags extends Record<string, unknown> {
  readonly label?: string;
  readonly role?: Role;
  readonly lens?: string;
  readonly readOnly?: boolean;
  readonly write?: string[];
  readonly cwd?: string;
  readonly model?: string;
  readonly timeout?: number;
  readonly maxParallel?: number;
  readonly backend?: string;
  readonly codexBin?: string;
  /** `--cmd LINE`: the command backend's program and arguments. */
  readonly cmd?: string;
  /** `--agent-cmd LINE`: the acp backend's agent and its arguments. */
  readonly agentCmd?: string;
  /** `--bin PATH`: the agent's binary, whichever the backend. */
  readonly bin?: string;
  /** true with `--wait` (wait and print the answers), false with `--no-wait` (refuse a busy writer) */
  readonly wait?: boolean;
  /** `--task TEXT`, repeated: one worker each. */
  readonly task?: string[];
  /** `--tasks FILE` (`-`: stdin): one JSON object a line, one worker each. */
  readonly tasks?: string;
  readonly isolate?: boolean;
  readonly unconfined?: boolean;
  /** `--continue ID`: a follow-up in that worker's agent thread. */
  readonly continue?: string;
  /** `--search` / `--no-search`; undefined when neither is given. */
  readonly search?: boolean;
  readonly json?: boolean;
}

/** `--cmd` or `--agent-cmd` (one of them: both name the worker's program). */
function commandLineOf(opts: SpawnFlags): string | undefined {
  if (opts.cmd !== undefined && opts.agentCmd !== undefined)
    throw new BatonError(
      "usage",
      "--cmd (a command) and --agent-cmd (an ACP agent) exclude each other: give one",
    );
  return opts.cmd ?? opts.agentCmd;
}

/** `baton spawn`. */
export async function spawn(global: GlobalOptions, words: string[], opts: SpawnFlags): Promise<void> {
  const io = ioOf(global);
  refuseInsideWorker(io.env);
  // Several tasks (--task, --tasks) share the other options; each may have its own label, role, ...
  const several = opts.task !== undefined || opts.tasks !== undefined;
  const { tasksOf } = await import("./spawn-tasks.js");
  const tasks = await tasksOf(words, opts, readStdin, io.cwd);
  const follows = opts.continue;
  const cwd = resolve(io.cwd, opts.cwd ?? ".");
  await withBaton(global, async (baton) => {
    const settings = await promptSettings(opts, cwd, baton.home);
    // Given none, the workspace's default (a follow-up: its parent's): `--codex-bin` is for codex only.
    const agentCommand = commandLineOf(opts);
    const backend =
      opts.backend ??
      (opts.cmd !== undefined ? "command" : opts.agentCmd !== undefined ? "acp" : undefined) ??
      (follows === undefined ? (await readWorkspaceConfig(baton.home)).backend : undefined);
    const each = tasks.map((own) => {
      const role = own.role ?? opts.role;
      const lens = own.lens ?? opts.lens;
      return {
        task: own.task,
        label: own.label ?? opts.label,
        role,
        readOnly: own.readOnly ?? opts.readOnly,
        write: own.write ?? opts.write,
        // A follow-up takes its parent's cwd unless given one.
        ...(follows !== undefined && opts.cwd === undefined ? {} : { cwd }),
        model: opts.model,
        timeoutSeconds: opts.timeout,
        ...limitSettings(opts),
        ...(backend === undefined ? {} : { backend }),
        bin: opts.bin ?? ((backend ?? "codex") === "codex" ? opts.codexBin : undefined),
        ...(agentCommand === undefined ? {} : { agentCommand }),
        maxParallel: opts.maxParallel,
        noWait: opts.wait === false,
        ...(opts.isolate ? { isolate: true } : {}),
        ...(follows === undefined ? {} : { continues: follows }),
        ...(opts.search === undefined ? {} : { search: opts.search }),
        ...(opts.unconfined ? { unconfined: true } : {}),
        ...(lens ? { lens } : {}),
        ...(settings.context ? { context: settings.context } : {}),
        ...(role && settings.templates[role] && follows === undefined
          ? { template: settings.templates[role] }
          : {}),
      };
    });
    // One connection for them all; each id is printed in the order of its task.
    const ids = await baton.spawnMany(each);
    if (opts.wait === true) {
      const { waitAndPrint } = await import("./spawn-tasks.js");
      return waitAndPrint(baton, ids, { json: opts.json, single: !several }, io);
    }
    if (!several) {
      if (opts.json) printJson({ id: ids[0] }, io);
      else io.out.write(`${ids[0]}\n`);
    } else if (opts.json) printJson(ids, io);
    else io.out.write(ids.map((id) => `${id}\n`).join(""));
  });
}
