import { resolve } from "node:path";
import { cliParams, resizeParams } from "../protocol/messages.js";
import { resolveHome } from "../store/home.js";
import type { Call, Handler } from "../supervisor/server.js";
import type { Io, Output } from "./io.js";
import { quickLine } from "./quick-argv.js";

// The quick path, run inside the supervisor for the native client (native/baton.c): the client is a
// small program that starts in a millisecond, sends its command line, folder, environment and whether
// its stdout and stderr are terminals, and prints what comes back. The command runs here exactly as
// `node dist/cli/main.js` would run it, through the same actions, with an Io that writes to the
// client's connection. What the quick path would leave to commander, the client runs with Node.

/** How a relayed command ended: its exit code, or why the client should run it with Node. */
export type Relayed = { readonly exit: number } | { readonly fallback: string };

/** Runs the command line in `params` for the store at `home`, whose supervisor this is. */
export async function relay(home: string, params: unknown, call: Call): Promise<Relayed> {
  const parsed = cliParams.safeParse(params);
  if (!parsed.success) return { fallback: "not a command line this supervisor can run" };
  const { argv, cwd, env, out, err } = parsed.data;
  const line = quickLine(argv);
  if (!line) return { fallback: "not a quick command line" };
  // Only a command for this very store: the client found it as Node would, and this checks it did.
  let wanted: string;
  try {
    wanted = line.home === undefined ? resolveHome(cwd, env) : resolve(cwd, line.home);
  } catch {
    return { fallback: "a store Node's CLI refuses" };
  }
  if (wanted !== resolve(home)) return { fallback: "a command for another store" };

  let finish: (code: number) => void = () => {};
  const ended = new Promise<number>((settle) => {
    finish = settle;
  });
  let interrupts: (() => void)[] = [];
  // The client's terminals as they are now: it sends their new size when one is resized.
  const terminals = { out, err };
  call.onResize((params) => {
    const resized = resizeParams.safeParse(params);
    if (resized.success) Object.assign(terminals, { out: resized.data.out, err: resized.data.err });
  });
  const output = (key: "out" | "err"): Output => ({
    isTTY: terminals[key].tty,
    get columns() {
      return terminals[key].columns;
    },
    get rows() {
      return terminals[key].rows;
    },
    write: (text) => call.notify({ [key]: text }),
  });
  const io: Io = {
    out: output("out"),
    err: output("err"),
    cwd,
    env,
    signal: call.closed, // the client is gone
    onInterrupt: (handler, options) => {
      interrupts = options?.first ? [handler, ...interrupts] : [...interrupts, handler];
      for (; early > 0; early--) handler();
      return () => {
        interrupts = interrupts.filter((h) => h !== handler);
      };
    },
    exit: (code) => finish(code),
  };
  // The client's Ctrl+C arrives as a cancel of this request. A command that handles it (wait, spawn
  // --wait) gets each, those that came before it was ready included; any other ends at once, as a
  // process of its own would.
  const handles =
    line.command === "wait" || (line.command === "spawn" && line.toggles.get("--wait") === true);
  let early = 0;
  call.onCancel(() => {
    if (!handles) return finish(130);
    if (interrupts.length === 0) early += 1;
    for (const handler of interrupts) handler();
  });
  // The command's requests go to this supervisor's handlers in process: the caller was admitted.
  const { Baton } = await import("../client/baton.js");
  const open = (deadline: number | undefined) =>
    Baton.over(call.local(), { home, cwd, env, ...(deadline === undefined ? {} : { deadline }) });
  const run = async (): Promise<number | undefined> =>
    line.command === "spawn"
      ? (await import("./quick-spawn.js")).runQuickSpawn(line, { io, open })
      : (await import("./quick.js")).runQuick(line, { io, open });
  const code = await Promise.race([run(), ended]);
  // A value commander would refuse: nothing was written, and Node's run reports it.
  return code === undefined ? { fallback: "a line for commander" } : { exit: code };
}

/** The request handler the supervisor's entry points add: `cli`, run by {@link relay}. */
export const relayHandlers = (home: string): Record<string, Handler> => ({
  cli: (params, _signal, call) => relay(home, params, call),
});
