import { useCallback, useRef, useState } from "react";
import type { Baton } from "../client/baton.js";
import { isBatonError } from "../errors.js";
import { duration } from "../render/numbers.js";
import { reasonText } from "../render/workers.js";
import { readable } from "../transcript/for-backend.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import { shown } from "./dashboard.js";

// What `baton top`'s keys do, each one library call: stop, interrupt, logs (shown readable), result.

/** A worker's transcript or result, open in the pager. */
export interface WorkerText {
  readonly kind: "logs" | "result";
  readonly worker: string;
  readonly backend: string;
  readonly title: string;
  /** Undefined while loading. */
  readonly text: string | undefined;
}

export type Action = "stop" | "interrupt" | "logs" | "result";

/** The least time between two reloads of an open transcript that grows. */
const RELOAD_EVERY_MS = 1_000;

export function useWorkerActions(baton: Baton) {
  const [status, setStatus] = useState("");
  const [text, setShownText] = useState<WorkerText | undefined>(undefined);
  const open = useRef<WorkerText | undefined>(undefined); // what the pager shows, or is about to
  const setText = useCallback((next: WorkerText | undefined) => {
    open.current = next;
    setShownText(next);
  }, []);
  const reloading = useRef({ at: 0, timer: undefined as NodeJS.Timeout | undefined });
  const failed = (what: string) => (error: unknown) =>
    setStatus(`${what}: ${isBatonError(error) || error instanceof Error ? error.message : String(error)}`);

  const loadLogs = useCallback(
    async (target: WorkerText, ended: boolean) => {
      reloading.current.at = Date.now();
      const text = await readable(await baton.logs(target.worker), target.backend, { ended });
      // Only if that transcript is still the one open (the pager may have been closed meanwhile).
      const now = open.current;
      if (now?.kind === "logs" && now.worker === target.worker)
        setText({ ...now, text: text || "(nothing yet)" });
    },
    [baton, setText],
  );

  const act = (action: Action, worker: WorkerInfo) => {
    const name = worker.label ? `${worker.id} (${shown(worker.label)})` : worker.id;
    const ended = isFinal(worker.state);
    const backend = worker.backend ?? "codex";
    switch (action) {
      case "stop":
        if (ended) return setStatus(`${name} has already ended (${worker.state})`);
        setStatus(`stopping ${name}: Ctrl+C, then SIGTERM and SIGKILL if it does not end`);
        baton
          .stop([worker.id])
          .then(
            (stopped) => setStatus(stopped.length ? `stopped ${name}` : `${name} had already ended`),
            failed(`could not stop ${name}`),
          );
        return;
      case "interrupt":
        if (ended) return setStatus(`${name} has already ended (${worker.state})`);
        baton
          .interrupt(worker.id)
          .then(() => setStatus(`sent Ctrl+C to ${name}`), failed(`could not interrupt ${name}`));
        return;
      case "logs": {
        const target: WorkerText = {
          kind: "logs",
          worker: worker.id,
          backend,
          title: `${name} transcript`,
          text: undefined,
        };
        setText(target);
        loadLogs(target, ended).catch((error: unknown) => {
          setText(undefined);
          failed(`could not read the transcript of ${name}`)(error);
        });
        return;
      }
      case "result":
        if (!ended)
          return setStatus(
            `${name} is still ${worker.state}: its result comes when it ends (enter: its transcript)`,
          );
        baton.result(worker.id).then(
          (result) => {
            const why = result.state === "succeeded" ? "" : `: ${reasonText(result)}`;
            const head = `${result.state}${why}, ${duration(result.durationMs)}`;
            setText({
              kind: "result",
              worker: worker.id,
              backend,
              title: `${name} result: ${shown(head)}`,
              text: result.answer || "(no answer)",
            });
          },
          failed(`could not read the result of ${name}`),
        );
        return;
    }
  };

  /** Reads the open transcript again (the worker printed more, or ended), at most every RELOAD_EVERY_MS. */
  const reload = (ended: boolean) => {
    const state = reloading.current;
    if (state.timer || open.current?.kind !== "logs") return;
    const target = open.current;
    const wait = Math.max(0, state.at + RELOAD_EVERY_MS - Date.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      loadLogs(target, ended).catch(() => {});
    }, wait);
  };

  return { status, text, close: () => setText(undefined), act, reload };
}
