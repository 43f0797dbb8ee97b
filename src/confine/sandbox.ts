import { spawnSync } from "node:child_process";
import { findOnPath, isExecutableFile } from "../backend/locate.js";
import { type AgentProgram, type Command, shielded } from "./launcher.js";
import { type Layout, type LayoutInput, layoutFor } from "./layout.js";
import { type SweepReport, sweep } from "./sweep.js";

/** Whether this machine can confine workers, and with what; probed once per process. */
export type Confiner =
  | {
      readonly ok: true;
      readonly bwrap: string;
      readonly env: string;
      /** The sandbox's first arguments: the first of {@link BASES} that works here. */
      readonly base: readonly string[];
      /** Whether this bubblewrap sets a tmpfs's mode (`--perms`, 0.5 and later): private folders are then owner-only. */
      readonly perms: boolean;
    }
  | { readonly ok: false; readonly why: string };

export const INSTALL_HINT =
  "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and allow user namespaces, or pass --unconfined to run this writer without Baton's confinement";

let probed: Confiner | undefined;

/**
 * Finds bubblewrap and checks that it can make a sandbox here: it needs user namespaces (or root),
 * which some kernels and containers turn off. Bubblewrap alone is tried: how the agent is started in
 * it (Baton's helper, or GNU env where there is none) is not what this asks. The first of
 * {@link BASES} that works is kept.
 */
export function confiner(env: NodeJS.ProcessEnv = process.env): Confiner {
  if (probed) return probed;
  const bwrap = env.BATON_BWRAP ?? findOnPath("bwrap", env) ?? ["/usr/bin/bwrap"].find(isExecutableFile);
  if (!bwrap) {
    probed = { ok: false, why: "bubblewrap (bwrap) is not installed" };
    return probed;
  }
  const envBin = findOnPath("env", env) ?? "/usr/bin/env";
  const tries = (args: readonly string[]) =>
    spawnSync(bwrap, [...args, "--", "/bin/true"], { encoding: "utf8", timeout: 10_000 });
  let failed: ReturnType<typeof tries> | undefined;
  for (const base of BASES) {
    // With an owner-only tmpfs first: where that works, as it does almost everywhere, one run tells.
    if (tries([...base, ...OWNER_ONLY_TMPFS]).status === 0) {
      probed = { ok: true, bwrap, env: envBin, base, perms: true };
      return probed;
    }
    failed = tries(base);
    if (failed.status === 0) {
      probed = { ok: true, bwrap, env: envBin, base, perms: false };
      return probed;
    }
  }
  const why = failed?.stderr || failed?.error?.message || `exit ${failed?.status}`;
  probed = { ok: false, why: `bubblewrap cannot make a sandbox here (${why.trim().split("\n")[0]})` };
  return probed;
}

/**
 * The whole file system read-only, a private /dev, and, where it can be made, a process namespace of
 * the sandbox's own with its /proc: a worker then sees and signals only its own processes, never the
 * supervisor, another worker or the user's programs (a `kill -9 -1` ends only its own). Some
 * containers refuse a new /proc (their own has parts masked): the namespace is kept there, with the
 * host's /proc, so the worker sees the other processes but signals none. Where no process namespace
 * can be made, the host's processes are shared, as they were before Baton had one. Baton sees every
 * process of the worker in the host's /proc, by which it finds and stops them. No --die-with-parent:
 * a worker outlives a supervisor that crashed, as it did before it was confined, and the recovering
 * supervisor stops it by its marker.
 */
const FILES = ["--ro-bind", "/", "/", "--dev", "/dev"];
const BASES: readonly (readonly string[])[] = [
  [...FILES, "--unshare-pid", "--proc", "/proc"],
  [...FILES, "--unshare-pid", "--bind", "/proc", "/proc"],
  [...FILES, "--bind", "/proc", "/proc"],
];

/** An owner-only tmpfs, as the probe tries it (a bubblewrap older than 0.5 has no `--perms`). */
const OWNER_ONLY_TMPFS = ["--perms", "0700", "--tmpfs", "/tmp"];

/**
 * Where agents that the user runs outside any sandbox listen for their clients. A confined worker
 * that reached such a socket could have that agent act for it, outside its scope: codex's app-server
 * daemon (`codex app-server --managed-daemon`, which every codex TUI of the user attaches to) listens
 * in `/tmp/codex-daemon-<uid>` and runs commands and edits for its clients. Each sandbox has an empty
 * folder of its own in their place (a confined codex makes its own daemon there, if it wants one).
 */
export function agentDaemonFolders(): string[] {
  return process.getuid ? [`/tmp/codex-daemon-${process.getuid()}`] : [];
}

/** One worker's sandbox: how its agent is started, and the sweep after it ends. */
export class Sandbox {
  private constructor(
    private readonly confined: Extract<Confiner, { ok: true }>,
    readonly layout: Layout,
    /** Folders hidden for a socket in them that no argument can name (see sockets.ts). */
    private readonly coveringFolders: ReadonlySet<string>,
  ) {}

  static for(confined: Extract<Confiner, { ok: true }>, input: LayoutInput): Sandbox {
    const layout = layoutFor(input);
    const sockets = new Set(input.sockets ?? []);
    const folders = layout.mounts.filter((m) => m.kind === "hidden" && sockets.has(m.path));
    return new Sandbox(confined, layout, new Set(folders.map((m) => m.path)));
  }

  /**
   * `program` run inside the sandbox, in `cwd`: started by `launcher` (the store's copy of the
   * native helper, made readable inside, which also lowers its priority by `nice`) or, without one,
   * by GNU env and bash.
   */
  wrap(program: AgentProgram, cwd: string, launcher: string | undefined, nice = 0): Command {
    const { bwrap, env, base, perms } = this.confined;
    const mounts = this.layout.mounts.flatMap((m) => {
      if (m.kind === "private" && perms) return ["--perms", "0700", "--tmpfs", m.path];
      if (m.kind === "hidden" || m.kind === "private") return ["--tmpfs", m.path];
      if (m.kind === "masked") return ["--ro-bind", "/dev/null", m.path];
      return [m.kind === "rw" ? "--bind" : "--ro-bind", m.path, m.path];
    });
    // A hidden folder is an empty tmpfs, read-only once what is mounted inside it is in place.
    for (const m of this.layout.mounts) if (m.kind === "hidden") mounts.push("--remount-ro", m.path);
    const sandboxArgs = [...base, ...mounts, "--chdir", cwd];
    return shielded(program, bwrap, sandboxArgs, launcher ? { launcher, nice } : { env });
  }

  /**
   * Bubblewrap's complaint, in the first output of the worker's terminal, that a socket it was to
   * cover (or the folder hidden for one, see sockets.ts) went away between Baton's reading and its
   * mounting (it cannot make the file or folder to mount on): the start failed for no fault of the
   * agent's, and a new one will not list that socket.
   */
  coverGone(output: string): string | undefined {
    const socket = /bwrap: Can't create file at (.+?): /.exec(output)?.[1];
    if (socket !== undefined && this.layout.mounts.some((m) => m.kind === "masked" && m.path === socket))
      return `the socket ${socket}, to be covered in the sandbox, went away as it started`;
    const folder = /bwrap: Can't mkdir (.+?): /.exec(output)?.[1];
    if (folder !== undefined && this.coveringFolders.has(folder))
      return `the folder ${folder}, hidden in the sandbox for a socket in it, went away as it started`;
    return undefined;
  }

  /**
   * Moves out what the writer made beside its files, but `keep`: what it or a writer that shared its
   * folders may write (see shared-folders.ts); see {@link sweep}.
   */
  sweep(quarantine: string, keep: readonly string[]): SweepReport {
    return sweep(this.layout.guarded, quarantine, keep);
  }
}
