import type { Context, Hono } from "hono";
import { type BatonError, isBatonError } from "../errors.js";
import { changesOf, transcriptOf, workerId } from "./details.js";
import type { SupervisorLink } from "./link.js";
import { snapshot } from "./snapshot.js";

// The page's API, under the token's prefix; every answer is JSON. Reads are GET; stop and interrupt
// are POST (a link or an image cannot make one, and the guard refuses one from another origin).

/** The status an error answers with, and its message as JSON. */
function failure(c: Context, error: unknown): Response {
  if (!isBatonError(error)) {
    return c.json({ error: `unexpected error: ${(error as Error)?.message ?? String(error)}` }, 500);
  }
  const status: Partial<Record<BatonError["code"], 400 | 404 | 409 | 503>> = {
    usage: 400,
    not_found: 404,
    not_finished: 409,
    supervisor: 503,
    timeout: 503,
  };
  return c.json({ error: error.message, code: error.code }, status[error.code] ?? 500);
}

export function apiRoutes(app: Hono, prefix: string, link: SupervisorLink): void {
  const answer =
    (work: (c: Context) => Promise<unknown>) =>
    async (c: Context): Promise<Response> => {
      try {
        return c.json(await work(c));
      } catch (error) {
        return failure(c, error);
      }
    };
  const id = (c: Context) => workerId(c.req.param("id") ?? "");

  app.get(
    `${prefix}/api/state`,
    answer(() => link.use((baton) => snapshot(baton))),
  );
  app.get(
    `${prefix}/api/workers/:id/transcript`,
    answer((c) => link.use((baton) => transcriptOf(baton, id(c)))),
  );
  app.get(
    `${prefix}/api/workers/:id/result`,
    answer((c) => link.use((baton) => baton.result(id(c)))),
  );
  app.get(
    `${prefix}/api/workers/:id/changes`,
    answer((c) => link.use((baton) => changesOf(baton, id(c)))),
  );
  app.post(
    `${prefix}/api/workers/:id/stop`,
    answer((c) => link.use(async (baton) => ({ stopped: await baton.stop([id(c)]) }))),
  );
  app.post(
    `${prefix}/api/workers/:id/interrupt`,
    answer((c) =>
      link.use(async (baton) => {
        await baton.interrupt(id(c));
        return { interrupted: c.req.param("id") };
      }),
    ),
  );
}
