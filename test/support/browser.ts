import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { CLI, type Workspace } from "./harness.ts";

// A real browser for the web dashboard's tests: Debian's chromium, driven by playwright-core (no
// browser download: `.ci/run` installs the package when it is missing).

export const CHROMIUM = process.env.BATON_CHROMIUM ?? "/usr/bin/chromium";

/** Chromium, headless; root (as in CI) needs its sandbox off. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  }
  const root = process.getuid?.() === 0;
  return chromium.launch({ executablePath: CHROMIUM, args: root ? ["--no-sandbox"] : [] });
}

/** `baton ui` running in a workspace, with the URL it printed. */
export interface UiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Ctrl+C (SIGINT) and its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `baton ui` in `ws` and resolves once it printed its URL (within `ms`). */
export function startUi(ws: Workspace, args: readonly string[] = [], ms = 30_000): Promise<UiProcess> {
  const child = spawn(process.execPath, [CLI, "ui", ...args], {
    cwd: ws.dir,
    env: ws.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`baton ui printed no URL within ${ms} ms: ${out}${err}`));
    }, ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`baton ui exited ${code} before printing its URL: ${out}${err}`));
    });
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const url = /http:\/\/127\.0\.0\.1:[0-9]+\/t\/[A-Za-z0-9_-]+\//.exec(out)?.[0];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        child,
        stderr: () => err,
        stop: () => {
          child.kill("SIGINT");
          return exited;
        },
      });
    });
  });
}
