// The names a workspace's queue uses in Redis. One workspace, one key: a host started for a
// workspace takes jobs from that workspace's queue only.

/** A workspace key: 24 hex digits, made once by the coordinator and kept in its store. */
export const WORKSPACE_KEY = /^[0-9a-f]{24}$/;

/** BullMQ queues of a workspace: worker jobs, updates from hosts, and stop requests to hosts. */
export function queueNames(workspace: string): { jobs: string; updates: string; control: string } {
  const base = `baton.${workspace}`;
  return { jobs: `${base}.jobs`, updates: `${base}.updates`, control: `${base}.control` };
}

/** The Redis key whose value changes whenever Redis lost its data: see epoch.ts. */
export const epochKey = (workspace: string): string => `baton:${workspace}:epoch`;

/**
 * The job of a worker's n-th dispatch (0 at first, one more after each `baton resume`). BullMQ adds a
 * job id once, so a coordinator that dispatches again after a restart adds nothing new.
 */
export const jobIdOf = (worker: string, dispatch: number): string => `${worker}-d${dispatch}`;
