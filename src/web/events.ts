import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Baton } from "../client/baton.js";
import type { SupervisorLink } from "./link.js";

// The workspace's events as server-sent events, fed by `baton.watch()`. Each event's `id` is its
// sequence number, so a browser that reconnects sends it back as Last-Event-ID and the stream goes on
// after it: nothing missed, nothing twice. A first connection says where to start with `?since=SEQ`
// (the `seq` of the listing the page drew).
//
// Besides plain `message` events (one BatonEvent each, as JSON):
// - `missed`: the supervisor had dropped events the page asked for; it should read the listing again;
// - `lost`: the supervisor went away; the stream ends and the browser connects again (a 503 while
//   none runs, after which the page tries again every few seconds).

/** A comment line this often keeps proxies and the browser from calling an idle stream dead. */
const KEEPALIVE_MS = 20_000;
/** How soon the browser reconnects after the stream ends. */
const RETRY_MS = 1_000;

/** Where to start: Last-Event-ID (a reconnect) before `?since` (a first connection); undefined: now. */
export function startOf(c: Context): number | undefined {
  for (const given of [c.req.header("last-event-id"), c.req.query("since")]) {
    if (given !== undefined && /^[0-9]{1,15}$/.test(given)) return Number(given);
  }
  return undefined;
}

/** The stream; 503 (which the page retries) while no supervisor can be reached. */
export async function eventStream(c: Context, link: SupervisorLink, closing: AbortSignal): Promise<Response> {
  const since = startOf(c);
  let baton: Baton;
  try {
    baton = await link.get();
  } catch (error) {
    return c.json({ error: (error as Error).message }, 503);
  }
  return streamSSE(c, async (stream) => {
    const done = new AbortController();
    const end = () => done.abort();
    stream.onAbort(end);
    closing.addEventListener("abort", end, { once: true });
    const keepalive = setInterval(() => void stream.write(": keepalive\n\n").catch(end), KEEPALIVE_MS);
    try {
      await stream.write(`retry: ${RETRY_MS}\n\n`);
      const events = baton.watch({
        ...(since === undefined ? {} : { since }),
        signal: done.signal,
        onMissed: (count) => void stream.writeSSE({ event: "missed", data: String(count) }).catch(end),
      });
      for await (const event of events) {
        await stream.writeSSE({ id: String(event.seq), data: JSON.stringify(event) });
      }
    } catch (error) {
      link.failed(baton, error);
      if (!done.signal.aborted) await stream.writeSSE({ event: "lost", data: "" }).catch(() => {});
    } finally {
      clearInterval(keepalive);
      closing.removeEventListener("abort", end);
      done.abort();
    }
  });
}
