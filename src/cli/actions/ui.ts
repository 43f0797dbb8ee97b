import { startDashboard } from "../../web/server.js";
import type { GlobalOptions } from "../context.js";

/** `baton ui`: serves the dashboard until Ctrl+C or SIGTERM. */
export async function ui(global: GlobalOptions, opts: { port?: number }): Promise<void> {
  const dashboard = await startDashboard({
    ...(global.home ? { home: global.home } : {}),
    ...(opts.port === undefined ? {} : { port: opts.port }),
  });
  process.stdout.write(
    `Baton's dashboard: ${dashboard.url}\n` +
      "Open it in a browser on this machine. The link is its key: keep it to yourself. Ctrl+C stops it.\n",
  );
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await dashboard.close();
  process.stderr.write("baton: the dashboard stopped; the workspace's workers go on\n");
}
