import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { BatonError } from "../errors.js";
import { writeFileAtomic } from "../store/atomic.js";
import { inStore, readStoreFile } from "../store/no-follow.js";
import { storeError } from "../store/store-error.js";
import { gitRemote, remoteProblem } from "./git-remote.js";
import { WORKSPACE_KEY } from "./names.js";
import { checkRedisUrl } from "./redis.js";

// `.baton/queue.json`: the workspace's queue. Written by `baton config --redis URL`, read by its
// supervisor when it starts. The URL may hold Redis's password: the store is open to its owner only,
// as for everything in it. `BATON_REDIS_URL` in the supervisor's environment stands for the file's URL.

export const QUEUE_FILE = "queue.json";

/** The Redis a workspace's workers are queued on, and the key hosts are started with. */
export interface QueueConfig {
  readonly redis: string;
  /** Names the workspace's queues: a host started with another key takes none of its jobs. */
  readonly workspace: string;
  /** The git-remote files mode: the remote hosts check commits out from (absent: a shared folder). */
  readonly gitRemote?: string;
}

const stored = z.strictObject({
  redis: z.string().min(1).max(2_000).optional(),
  workspace: z.string().regex(WORKSPACE_KEY),
  gitRemote: gitRemote.optional(),
});

/** The stored file, if any: the key, and the URL unless only the environment gives one. */
async function readStored(home: string): Promise<z.infer<typeof stored> | undefined> {
  const path = join(home, QUEUE_FILE);
  let read: Awaited<ReturnType<typeof readStoreFile>>;
  try {
    read = await readStoreFile(home, path);
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error);
  }
  if (!read) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(read.text);
  } catch {
    throw damaged(path);
  }
  const parsed = stored.safeParse(data);
  if (!parsed.success) throw damaged(path);
  return parsed.data;
}

/**
 * The workspace's queue, or undefined when it runs its workers here. The environment's
 * `BATON_REDIS_URL` wins over the stored URL; a workspace key is made (and kept) when there is none.
 */
export async function readQueueConfig(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<QueueConfig | undefined> {
  const file = await readStored(home);
  const url = env.BATON_REDIS_URL || file?.redis;
  if (!url) return undefined;
  checkRedisUrl(url, env.BATON_REDIS_URL ? "BATON_REDIS_URL" : `${join(home, QUEUE_FILE)}: redis`);
  if (file)
    return {
      redis: url,
      workspace: file.workspace,
      ...(file.gitRemote ? { gitRemote: file.gitRemote } : {}),
    };
  return { redis: url, workspace: (await write(home, { workspace: newKey() })).workspace };
}

/**
 * `baton config --redis URL [--git-remote URL | --shared-folder]`: puts the workspace on the queue at
 * `url`, keeping its key if it has one, and its files mode unless one is given (null: the shared folder).
 */
export async function writeQueueConfig(
  home: string,
  url: string,
  files: { readonly gitRemote: string | null } | undefined = undefined,
): Promise<QueueConfig> {
  checkRedisUrl(url);
  if (files?.gitRemote) {
    const problem = remoteProblem(files.gitRemote);
    if (problem) throw new BatonError("usage", `--git-remote ${JSON.stringify(files.gitRemote)}: ${problem}`);
  }
  const file = await readStored(home);
  const gitRemote = files === undefined ? file?.gitRemote : (files.gitRemote ?? undefined);
  const next = await write(home, {
    redis: url,
    workspace: file?.workspace ?? newKey(),
    ...(gitRemote ? { gitRemote } : {}),
  });
  return { redis: url, workspace: next.workspace, ...(next.gitRemote ? { gitRemote: next.gitRemote } : {}) };
}

/** The workspace's key, when it has one (what `baton host --workspace` takes). */
export async function workspaceKey(home: string): Promise<string | undefined> {
  return (await readStored(home))?.workspace;
}

async function write(home: string, value: z.infer<typeof stored>): Promise<z.infer<typeof stored>> {
  const path = join(home, QUEUE_FILE);
  try {
    await inStore(home, path, (at) => writeFileAtomic(at, `${JSON.stringify(value, null, 2)}\n`));
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error);
  }
  return value;
}

const newKey = () => randomBytes(12).toString("hex");

const damaged = (path: string) =>
  new BatonError(
    "store",
    `${path} is damaged: remove it and put the workspace on its queue again with \`baton config --redis URL\` (hosts then need the new workspace key)`,
  );
