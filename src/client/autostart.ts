import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workerNice } from "../confine/launcher.js";
import { BatonError } from "../errors.js";
import { secretsOf } from "../store/redact.js";

const SUPERVISOR_MAIN = fileURLToPath(new URL("../supervisor/main.js", import.meta.url));
const START_TIMEOUT_MS = 15_000;

export type StartOutcome =
  | { readonly kind: "started"; readonly pid: number }
  | { readonly kind: "already_running" };

/**
 * Starts the workspace's supervisor as a daemon in its own session, so that it and its workers outlive
 * this process and its terminal. Resolves once it listens.
 */
export function startSupervisor(home: string, env: NodeJS.ProcessEnv = process.env): Promise<StartOutcome> {
  workerNice(env); // a value it would refuse is refused here, where the user sees why
  // The supervisor needs no secrets of its own: each spawn brings the environment its worker gets.
  const secrets = new Set(secretsOf(env));
  const cleanEnv = Object.fromEntries(Object.entries(env).filter(([, value]) => !secrets.has(value ?? "")));
  const child = spawn(process.execPath, [SUPERVISOR_MAIN, "--home", home], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
    env: cleanEnv,
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => finish(new BatonError("supervisor", `the supervisor for ${home} did not start in time`)),
      START_TIMEOUT_MS,
    );
    const finish = (outcome: StartOutcome | Error) => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners();
      child.stdout?.destroy();
      child.removeAllListeners();
      child.unref();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      output += chunk;
      const newline = output.indexOf("\n");
      if (newline < 0) return;
      const line = output.slice(0, newline);
      if (line.startsWith("ready ")) finish({ kind: "started", pid: Number(line.slice(6)) });
      else if (line.includes("already running")) finish({ kind: "already_running" });
      else finish(new BatonError("store", line.replace(/^error: /, "")));
    });
    child.once("error", (error) =>
      finish(new BatonError("supervisor", `cannot start the supervisor: ${error.message}`)),
    );
    child.once("exit", (code) => {
      if (!output.includes("\n"))
        finish(new BatonError("supervisor", `the supervisor exited at start (code ${code})`));
    });
  });
}
