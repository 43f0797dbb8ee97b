import { spawnSync } from "node:child_process";
import { findOnPath, isExecutableFile } from "../backend/locate.js";
import { type Layout, type LayoutInput, layoutFor } from "./layout.js";
import { type SweepReport, sweep } from "./sweep.js";

/** Whether this machine can confine workers, and with what; probed once per process. */
export type Confiner =
  | { readonly ok: true; readonly bwrap: string }
  | { readonly ok: false; readonly why: string };

export const INSTALL_HINT =
  "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and allow user namespaces, or pass --unconfined to run this writer without Baton's confinement";

let probed: Confiner | undefined;

/**
 * Finds bubblewrap and checks that it can make a sandbox here: it needs user namespaces (or root),
 * which some kernels and containers turn off.
 */
export function confiner(env: NodeJS.ProcessEnv = process.env): Confiner {
  if (probed) return probed;
  const bwrap = env.BATON_BWRAP ?? findOnPath("bwrap", env) ?? ["/usr/bin/bwrap"].find(isExecutableFile);
  if (!bwrap) {
    probed = { ok: false, why: "bubblewrap (bwrap) is not installed" };
    return probed;
  }
  const check = spawnSync(bwrap, [...BASE, "--", "/bin/true"], { encoding: "utf8", timeout: 10_000 });
  probed =
    check.status === 0
      ? { ok: true, bwrap }
      : {
          ok: false,
          why: `bubblewrap cannot make a sandbox here (${(check.stderr || check.error?.message || `exit ${check.status}`).trim().split("\n")[0]})`,
        };
  return probed;
}

/** The whole file system read-only, a private /dev, the host's /proc (Baton finds and stops processes by it). */
const BASE = ["--ro-bind", "/", "/", "--dev", "/dev", "--bind", "/proc", "/proc", "--die-with-parent"];

/** One worker's sandbox: how its agent is started, and the sweep after it ends. */
export class Sandbox {
  private constructor(
    private readonly bwrap: string,
    readonly layout: Layout,
  ) {}

  static for(confined: Extract<Confiner, { ok: true }>, input: LayoutInput): Sandbox {
    return new Sandbox(confined.bwrap, layoutFor(input));
  }

  /** `file args` run inside the sandbox, in `cwd`. */
  wrap(file: string, args: readonly string[], cwd: string): { file: string; args: string[] } {
    const mounts = this.layout.mounts.flatMap((m) => [m.writable ? "--bind" : "--ro-bind", m.path, m.path]);
    return { file: this.bwrap, args: [...BASE, ...mounts, "--chdir", cwd, "--", file, ...args] };
  }

  /** Moves out what the writer made beside its files; see {@link sweep}. */
  sweep(quarantine: string): SweepReport {
    return sweep(this.layout.guarded, quarantine);
  }
}
