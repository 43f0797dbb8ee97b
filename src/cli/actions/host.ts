import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { BatonError } from "../../errors.js";
import { startHost } from "../../host/host.js";
import { checkRedisUrl } from "../../queue/redis.js";
import { keepPrivate } from "../../supervisor/user-umask.js";
import type { GlobalOptions } from "../context.js";

/** `baton host`: takes the workspace's worker jobs until Ctrl+C (a second one stops its workers). */
export async function host(
  global: GlobalOptions,
  opts: { redis?: string; workspace?: string; slots?: number; name?: string; lockMs?: number },
): Promise<void> {
  const url = opts.redis ?? process.env.BATON_REDIS_URL;
  if (!url)
    throw new BatonError("usage", "baton host needs the workspace's Redis: --redis URL, or BATON_REDIS_URL");
  checkRedisUrl(url, opts.redis ? "--redis" : "BATON_REDIS_URL");
  if (!opts.workspace) {
    throw new BatonError(
      "usage",
      "baton host needs --workspace KEY: the key `baton config --redis URL` printed in the workspace",
    );
  }
  const name = (opts.name ?? hostname()).replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64) || "host";
  if (!/^[A-Za-z0-9]/.test(name))
    throw new BatonError("usage", `--name ${name}: start it with a letter or digit`);
  const state = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  const home = global.home ?? join(state, "baton", "hosts", opts.workspace);
  keepPrivate();
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${name}: ${line}\n`);
  const running = await startHost(
    {
      redis: url,
      workspace: opts.workspace,
      slots: opts.slots ?? 4,
      name,
      home,
      lockMs: opts.lockMs ?? 15_000,
    },
    log,
  );
  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = () => {
      signals += 1;
      log(
        signals === 1
          ? "stopping: no new jobs; waiting for the workers running here"
          : "stopping its workers now",
      );
      void running.close(signals > 1).then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  process.exit(0);
}
