import { join } from "node:path";
import { BatonError } from "../errors.js";
import { writeFileAtomic } from "../store/atomic.js";
import { inStore, readStoreFile } from "../store/no-follow.js";
import { storeError } from "../store/store-error.js";
import type { NamedAgents } from "./agent-schema.js";

// The workspace's own settings that outlive the supervisor: `.baton/config.json`, written whole (a
// temporary file, then rename) and never through a link planted in the store. The supervisor's
// concurrency cap stays with the supervisor (`baton config --max-parallel`); what lives here is read by
// the client at spawn, so the supervisor need not know of it.

/** What `.baton/config.json` holds. */
export interface WorkspaceConfig {
  /** The backend a worker runs on when neither its spawn nor its run names one. @default "codex" */
  readonly backend?: string;
  /** Programs named once and used by name wherever a backend's name is taken (see named-agents.ts). */
  readonly agents?: NamedAgents;
}

export const CONFIG_FILE = "config.json";

/** The backend a worker runs on when nothing names one, and no workspace default is set. */
export const DEFAULT_BACKEND = "codex";

/** The workspace's settings; empty when none were ever set. Throws a one-line error for a damaged file. */
export async function readWorkspaceConfig(home: string): Promise<WorkspaceConfig> {
  const path = join(home, CONFIG_FILE);
  let read: Awaited<ReturnType<typeof readStoreFile>>;
  try {
    read = await readStoreFile(home, path);
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error);
  }
  if (!read) return {};
  let data: unknown;
  try {
    data = JSON.parse(read.text);
  } catch {
    throw damaged(path, "is not valid JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw damaged(path, "is not a JSON object");
  }
  const { backend, agents } = data as Record<string, unknown>;
  if (backend !== undefined && (typeof backend !== "string" || !/^[a-z][a-z0-9:_-]{0,63}$/.test(backend))) {
    throw damaged(path, "has a backend that is not a name");
  }
  // The schema library is loaded only for a config that names agents.
  const named =
    agents === undefined ? undefined : (await import("./agent-schema.js")).parseAgents(agents, path);
  return {
    ...(backend === undefined ? {} : { backend }),
    ...(named && Object.keys(named).length > 0 ? { agents: named } : {}),
  };
}

/**
 * Changes the workspace's settings: `changes` over what is there (or, given a function, what it makes
 * of what is there), written whole. An empty `agents` is left out.
 */
export async function writeWorkspaceConfig(
  home: string,
  changes: WorkspaceConfig | ((config: WorkspaceConfig) => WorkspaceConfig),
): Promise<WorkspaceConfig> {
  const current = await readWorkspaceConfig(home);
  const { agents, ...rest } = typeof changes === "function" ? changes(current) : { ...current, ...changes };
  const next: WorkspaceConfig = { ...rest, ...(agents && Object.keys(agents).length > 0 ? { agents } : {}) };
  const path = join(home, CONFIG_FILE);
  try {
    await inStore(home, path, (at) => writeFileAtomic(at, `${JSON.stringify(next, null, 2)}\n`));
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error);
  }
  return next;
}

const damaged = (path: string, what: string) =>
  new BatonError(
    "store",
    `${path} ${what}: fix it, or remove it and set the default again with \`baton config --backend NAME\``,
  );
