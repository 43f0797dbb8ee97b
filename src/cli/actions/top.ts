import { ExitWith, type GlobalOptions, withBaton } from "../context.js";

/** `baton top`: the dashboard, on a terminal only. */
export async function top(global: GlobalOptions): Promise<void> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new ExitWith(
      2,
      "top needs a terminal, and its input or output is not one: use `baton watch` to follow events, or `baton ls` for a listing",
    );
  }
  await withBaton(global, async (baton) => {
    // Ink draws nothing until it exits when it thinks it runs under CI (CI=true); a terminal is
    // interactive whatever the environment says. The supervisor, already started, keeps its own.
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    const { runTop } = await import("../../tui/top.js"); // Ink and React: only here
    await runTop(baton);
  });
}
