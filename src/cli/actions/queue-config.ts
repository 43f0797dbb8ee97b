import { lockHeld } from "../../client/supervisor-process.js";
import { BatonError } from "../../errors.js";
import { writeQueueConfig } from "../../queue/config.js";
import { connectRedis, shownUrl } from "../../queue/redis.js";
import { prepareHome } from "../../store/open.js";
import { printJson } from "../context.js";

/**
 * `baton config --redis URL`: puts the workspace's workers on the queue at URL (checked by connecting),
 * and prints the workspace key its hosts are started with.
 */
export async function configureQueue(
  home: string,
  url: string,
  opts: { readonly gitRemote?: string; readonly sharedFolder?: boolean; readonly json?: boolean },
): Promise<void> {
  if (opts.gitRemote !== undefined && opts.sharedFolder)
    throw new BatonError("usage", "--git-remote and --shared-folder are two files modes: give one");
  const files =
    opts.gitRemote !== undefined
      ? { gitRemote: opts.gitRemote }
      : opts.sharedFolder
        ? { gitRemote: null }
        : undefined;
  const client = await connectRedis(url, "baton-config");
  client.disconnect();
  await prepareHome(home);
  const config = await writeQueueConfig(home, url, files);
  const running = lockHeld(home);
  const filesShown = config.gitRemote ? `git remote ${config.gitRemote}` : "the shared folder";
  if (opts.json)
    return printJson({
      redis: shownUrl(url),
      workspace: config.workspace,
      files: config.gitRemote ? { gitRemote: config.gitRemote } : "shared-folder",
      restartNeeded: running,
    });
  process.stdout.write(
    `workspace key  ${config.workspace}\n` +
      `redis          ${shownUrl(url)}\n` +
      `files          ${filesShown}\n` +
      `start hosts with: BATON_REDIS_URL=... baton host --workspace ${config.workspace} --slots 4\n` +
      (running
        ? "the supervisor running now still runs workers here: `baton shutdown` (it stops them), then the next command starts a coordinator\n"
        : ""),
  );
}
