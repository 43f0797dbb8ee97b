import type { Redis } from "ioredis";
import { BatonError } from "../errors.js";

// Redis and BullMQ are loaded only by `baton host` and by the supervisor of a workspace on a queue:
// every other command starts without them (see scripts/bundle.mjs).

/** The BullMQ module, loaded on first use. */
export type BullMQ = typeof import("bullmq");

export function bullmq(): Promise<BullMQ> {
  return import("bullmq");
}

/**
 * Checks a Redis URL: `redis://` or `rediss://` (TLS), a host, and at most a database number as its
 * path. Returns it as given; throws a one-line usage error that shows it with its password hidden.
 */
export function checkRedisUrl(url: string, flag = "--redis"): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BatonError(
      "usage",
      `${flag} ${shownUrl(url)} is not a URL: give redis://[:PASSWORD@]HOST:PORT`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new BatonError(
      "usage",
      `${flag} ${shownUrl(url)}: the URL must start with redis:// (or rediss:// for TLS)`,
    );
  }
  if (!parsed.hostname) throw new BatonError("usage", `${flag} ${shownUrl(url)} names no host`);
  if (parsed.pathname && !/^\/?[0-9]{0,2}$/.test(parsed.pathname)) {
    throw new BatonError("usage", `${flag} ${shownUrl(url)}: its path may only be a database number`);
  }
  return url;
}

/** The URL with its password (and user) replaced by `***`: what logs and messages show. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    if (parsed.username) parsed.username = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/**
 * A connection to the Redis at `url`, as BullMQ's workers need it (commands wait through a reconnect
 * instead of failing). `rediss://` makes ioredis speak TLS. The caller closes it: BullMQ does not close
 * a connection it was given.
 */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const { Redis: Client } = await import("ioredis");
  const client = new Client(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    // Back off up to 2 s between tries, forever: a Redis that restarts is waited for.
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
    lazyConnect: true,
  });
  // Reconnects are ioredis's; callers watch `ready` and `end`. The first error says why a connection
  // failed (a refused port, a certificate nobody vouches for) where connect() says only that it closed.
  let why: Error | undefined;
  client.on("error", (error: Error) => {
    why ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = (why ?? (error as Error)).message.replace(/\.$/, "");
    const tls = url.startsWith("rediss:") && /certificate|self.signed|TLS|SSL/i.test(reason);
    throw new BatonError(
      "supervisor",
      `cannot reach Redis at ${shownUrl(url)}: ${reason}: ${tls ? "trust its certificate's CA (NODE_EXTRA_CA_CERTS=ca.pem)" : "start it, or fix the URL (and its password)"}`,
      { cause: error },
    );
  }
  return client;
}
