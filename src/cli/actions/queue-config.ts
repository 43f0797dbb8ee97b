import { lockHeld } from "../../client/supervisor-process.js";
import { writeQueueConfig } from "../../queue/config.js";
import { connectRedis, shownUrl } from "../../queue/redis.js";
import { prepareHome } from "../../store/open.js";
import { printJson } from "../context.js";

/**
 * `baton config --redis URL`: puts the workspace's workers on the queue at URL (checked by connecting),
 * and prints the workspace key its hosts are started with.
 */
export async function configureQueue(home: string, url: string, json: boolean | undefined): Promise<void> {
  const client = await connectRedis(url, "baton-config");
  client.disconnect();
  await prepareHome(home);
  const config = await writeQueueConfig(home, url);
  const running = lockHeld(home);
  if (json) return printJson({ redis: shownUrl(url), workspace: config.workspace, restartNeeded: running });
  process.stdout.write(
    `workspace key  ${config.workspace}\n` +
      `redis          ${shownUrl(url)}\n` +
      `start hosts with: BATON_REDIS_URL=... baton host --workspace ${config.workspace} --slots 4\n` +
      (running
        ? "the supervisor running now still runs workers here: `baton shutdown` (it stops them), then the next command starts a coordinator\n"
        : ""),
  );
}
