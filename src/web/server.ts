import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { Baton } from "../client/baton.js";
import { BatonError, errnoOf } from "../errors.js";
import { loadAssets } from "./assets.js";
import { eventStream } from "./events.js";
import { guard, newToken, prefixOf } from "./guard.js";
import { SupervisorLink } from "./link.js";
import { apiRoutes } from "./routes.js";

// `baton ui`: a web dashboard of one workspace, on 127.0.0.1, for whoever holds the URL it prints.
// The page, its script and stylesheet, the API and the event stream all live under `/t/<token>/`;
// the guard (guard.ts) refuses everything else with 403.

export interface DashboardOptions {
  /** The run store. @default as every command finds it (BATON_HOME, the nearest .baton, ./.baton) */
  readonly home?: string;
  /** @default a free port */
  readonly port?: number;
  /** @default a new random token (tests may fix one) */
  readonly token?: string;
}

export interface Dashboard {
  /** The address to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Ends every event stream, stops listening and closes the connection to the supervisor. */
  close(): Promise<void>;
}

/** Connects to the workspace (starting its supervisor if none runs), then serves the dashboard. */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const assets = await loadAssets();
  const token = options.token ?? newToken();
  const prefix = prefixOf(token);
  const home = options.home;
  const link = new SupervisorLink(({ autoStart }) => Baton.open({ ...(home ? { home } : {}), autoStart }));
  const closing = new AbortController();
  let port = 0;

  const app = new Hono();
  app.use("*", guard({ token, port: () => port }));
  app.get(prefix, (c) => c.redirect(`${prefix}/`));
  for (const [name, asset] of assets) {
    const path = name === "index.html" ? `${prefix}/` : `${prefix}/${name}`;
    app.get(path, (c) => c.body(asset.body, 200, { "Content-Type": asset.type }));
  }
  apiRoutes(app, prefix, link);
  app.get(`${prefix}/events`, (c) => eventStream(c, link, closing.signal));
  app.notFound((c) => c.json({ error: "no such page" }, 404));

  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  const close = async () => {
    closing.abort();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    link.close();
  };
  // The port first (a port in use starts nothing), then the workspace: fails now, not at the first
  // page load, if it cannot be reached.
  port = await listen(server, options.port ?? 0);
  try {
    await link.get();
  } catch (error) {
    await close();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}${prefix}/`, port, token, close };
}

/** Listens on 127.0.0.1 only; resolves with the port. A port in use or not allowed is a usage error. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error) => {
      const code = errnoOf(error);
      if (code === "EADDRINUSE")
        reject(
          new BatonError(
            "usage",
            `--port ${port} is in use: give another, or leave --port out for a free one`,
          ),
        );
      else if (code === "EACCES")
        reject(
          new BatonError(
            "usage",
            `--port ${port} needs privileges: give one above 1023, or leave --port out`,
          ),
        );
      else reject(error);
    });
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
