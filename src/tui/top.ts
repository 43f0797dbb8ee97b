import { render } from "ink";
import { createElement as h } from "react";
import type { Baton } from "../client/baton.js";
import { App } from "./app.js";
import { createFeed } from "./feed.js";
import { followWorkspace } from "./live.js";
import { colourAllowed } from "./palette.js";

/** Runs `baton top` on this terminal until the user quits (q or Ctrl+C). */
export async function runTop(baton: Baton): Promise<void> {
  const feed = createFeed();
  const controller = new AbortController();
  followWorkspace(baton, { catchUp: true, signal: controller.signal, onSnapshot: feed.push }).catch(
    (error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      feed.fail(`no more updates: ${why} (q quits)`);
    },
  );
  const app = render(h(App, { baton, feed, colour: colourAllowed(process.env) }), {
    patchConsole: false,
    exitOnCtrlC: true,
  });
  try {
    await app.waitUntilExit();
  } finally {
    controller.abort();
    process.stdin.pause();
  }
}
