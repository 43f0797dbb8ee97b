import { readFileSync, readlinkSync } from "node:fs";
import { type ProcessId, readStat } from "./proc-stat.js";
import { agentEnded, leftoversOf, terminate } from "./processes.js";

// A confined worker's processes all live in a process namespace of its sandbox's own (see
// confine/sandbox.ts): bubblewrap, the worker's agent process as Baton started it, runs its first
// process, which runs the agent. Every process of the namespace descends from that first one (an
// orphan is handed to it), and when it ends the kernel ends them all. So once the agent has ended, a
// namespace whose first process has no child left holds nothing that could be left behind, and the
// whole look through /proc for leftovers can be skipped.

/** How long what an agent left running gets between SIGTERM and SIGKILL once the agent has ended. */
const LEFTOVER_GRACE_MS = 1000;

/**
 * What one attempt's agent leaves running once it has ended. Confined, its namespace's first process
 * is noted as soon as the agent shows a sign of life (it runs inside by then); at its end, an empty
 * namespace means nothing is left, without a look through /proc. Otherwise (unconfined, or it cannot
 * be told) every process the worker may have left is looked for ({@link leftoversOf}).
 */
export class AgentLeftovers {
  private init: ProcessId | undefined;
  private looked: boolean;

  constructor(
    private readonly root: ProcessId | undefined,
    private readonly marker: string,
    confined: boolean,
  ) {
    this.looked = !confined || root === undefined;
  }

  /** The agent printed something: inside its sandbox, so its namespace is there. */
  alive(): void {
    if (this.looked) return;
    this.looked = true;
    if (this.root) this.init = namespaceInit(this.root);
  }

  /**
   * Once the agent has ended: stops what it left running, SIGTERM first (so that a tool can clean
   * up), then SIGKILL for what is still there after a grace period.
   */
  async stop(): Promise<void> {
    if (this.init && namespaceEmpty(this.init)) {
      agentEnded(this.root);
      return;
    }
    const left = await leftoversOf(this.root, this.marker);
    if (left.length > 0) await terminate(left, LEFTOVER_GRACE_MS);
  }
}

/**
 * The first process of the namespace that `root` (bubblewrap, outside it) made: its one child, if that
 * child is in another process namespace than `root`. Undefined when it cannot be told (no such child
 * yet, no /proc/<pid>/task/<pid>/children on this kernel, a process unlike that).
 */
export function namespaceInit(root: ProcessId): ProcessId | undefined {
  const children = childrenOf(root.pid);
  if (children?.length !== 1) return undefined;
  const pid = children[0]!;
  const info = readStat(pid);
  if (!info || info.ppid !== root.pid || (root.startTime !== undefined && info.startTime < root.startTime))
    return undefined;
  try {
    if (readlinkSync(`/proc/${pid}/ns/pid`) === readlinkSync(`/proc/${root.pid}/ns/pid`)) return undefined;
  } catch {
    return undefined;
  }
  return { pid, startTime: info.startTime };
}

/**
 * True when nothing can be left in the namespace whose first process is `init`: that process has
 * ended (gone, a zombie, or its pid taken by a later process), or it has no child, so no other process
 * is in its namespace. False when anything else may be there, or it cannot be told.
 */
export function namespaceEmpty(init: ProcessId): boolean {
  const info = readStat(init.pid);
  if (!info || info.startTime !== init.startTime || info.state === "Z") return true;
  return childrenOf(init.pid)?.length === 0;
}

/** The children of `pid`'s main thread; undefined when that cannot be read. */
function childrenOf(pid: number): number[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return undefined;
  }
}
