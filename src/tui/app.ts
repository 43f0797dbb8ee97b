import { Box, type Key, Text, useApp, useInput, useStdout } from "ink";
import {
  createElement as h,
  type ReactElement,
  useCallback,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import type { Baton } from "../client/baton.js";
import { currentPlans, type ShownPlan } from "../plan/current.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import { useWorkerActions } from "./actions.js";
import {
  COLUMNS,
  columnWidths,
  padded,
  planLines,
  runLines,
  shown,
  summary,
  windowStart,
  workerRows,
} from "./dashboard.js";
import type { Feed } from "./feed.js";
import { Pager, type PagerTop, pagerKey } from "./pager.js";
import { STATE_COLOUR } from "./palette.js";

// `baton top`'s screen: a thin layer over the library. What it shows comes from `list()` and the event
// stream (through live.ts); what its keys do are the library's calls (stop, interrupt, logs, result).

export interface AppProps {
  readonly baton: Baton;
  readonly feed: Feed;
  readonly colour: boolean;
}

/** How often elapsed times and "last active" move on when nothing else happens. */
const TICK_MS = 1_000;
/** The most lines the plans and the runs may take, as a share of the screen. */
const PLAN_SHARE = 1 / 3;

export function App({ baton, feed, colour }: AppProps): ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const snapshot = useSyncExternalStore(feed.subscribe, feed.current);
  const [now, setNow] = useState(Date.now());
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [plans, setPlans] = useState<readonly ShownPlan[]>([]);
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const first = useRef(0); // the first worker row in sight
  const { status, text, close, act, reload } = useWorkerActions(baton);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    const resized = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on("resize", resized);
    return () => {
      clearInterval(timer);
      stdout.off("resize", resized);
    };
  }, [stdout]);
  const planVersion = snapshot.live?.plans;
  useEffect(() => {
    if (planVersion === undefined) return;
    currentPlans(baton.home).then(setPlans, () => {});
  }, [baton, planVersion]);

  const workers = snapshot.live?.workers ?? [];
  const index = Math.max(0, selectedId ? workers.findIndex((w) => w.id === selectedId) : 0);
  const selected: WorkerInfo | undefined = workers[index];

  // The open transcript of a running worker follows its output, and shows its answer once it ends.
  const viewed = text?.kind === "logs" ? workers.find((w) => w.id === text.worker) : undefined;
  const activity = viewed ? snapshot.live?.activity.get(viewed.id) : undefined;
  const viewedEnded = viewed ? isFinal(viewed.state) : undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload only when the worker shows activity or ends
  useEffect(() => {
    if (viewedEnded !== undefined) reload(viewedEnded);
  }, [activity, viewedEnded]);

  // One input handler for the whole screen, reading what is on it now: a key typed right after the
  // view changed goes to the new view, not to the one that closed.
  const [pagerTop, setPagerTop] = useState<PagerTop>(undefined);
  const pager = text && {
    title: text.title,
    text: text.text,
    top: pagerTop,
    width: size.columns,
    height: size.rows - 1,
  };
  const keys = useRef<(input: string, key: Key) => void>(() => {});
  keys.current = (input, key) => {
    if (pager) {
      const done = pagerKey(input, key, pager);
      if (done && "close" in done) close();
      else if (done) setPagerTop(done.top);
      return;
    }
    const move = (to: number) => setSelectedId(workers[Math.max(0, Math.min(workers.length - 1, to))]?.id);
    if (input === "q") exit();
    else if (key.upArrow || input === "k") move(index - 1);
    else if (key.downArrow || input === "j") move(index + 1);
    else if (key.pageUp) move(index - 10);
    else if (key.pageDown) move(index + 10);
    else if (!selected) return;
    else if (input === "s") act("stop", selected);
    else if (input === "i") act("interrupt", selected);
    else if (key.return || input === "l") {
      setPagerTop(undefined); // a transcript opens at its end, and follows it
      act("logs", selected);
    } else if (input === "r") {
      setPagerTop(0);
      act("result", selected);
    }
  };
  useInput(useCallback((input: string, key: Key) => keys.current(input, key), []));

  if (pager) return h(Pager, { ...pager, colour });

  const planShown = [...planLines(plans), ...runLines(snapshot.live?.runs ?? [], now)];
  const planRoom = Math.floor(size.rows * PLAN_SHARE);
  const planCut =
    planShown.length > planRoom
      ? [
          ...planShown.slice(0, Math.max(0, planRoom - 1)),
          `... ${planShown.length - planRoom + 1} more lines`,
        ]
      : planShown;
  // Header, column names, keys and status take four lines; one more stays free so that Ink redraws
  // in place (a frame as tall as the screen is drawn by clearing it).
  const room = Math.max(1, size.rows - planCut.length - 5);
  const rows = workerRows(snapshot.live ?? emptySnapshot, now);
  const widths = columnWidths(rows);
  const start = windowStart(rows.length, index, room, first.current);
  first.current = start;
  const line = (key: string, content: string, props: Record<string, unknown> = {}) =>
    h(Text, { key, wrap: "truncate-end", ...props }, content);

  const problem = snapshot.error ?? snapshot.live?.problems[0];
  return h(
    Box,
    { flexDirection: "column" },
    line("head", `baton top  ${snapshot.live ? summary(workers) : "reading the workspace..."}`, {
      bold: colour,
    }),
    ...planCut.map((text, i) => line(`plan${i}`, text)),
    line("columns", `  ${padded([...COLUMNS], widths).join("  ")}`, { dimColor: colour }),
    ...rows.slice(start, start + room).map((row) => {
      const mark = row.id === selected?.id;
      const cells = padded(row.cells, widths);
      const stateAt = COLUMNS.indexOf("STATE");
      return h(
        Text,
        { key: row.id, wrap: "truncate-end", inverse: colour && mark },
        `${mark ? "›" : " "} ${cells.slice(0, stateAt).join("  ")}  `,
        h(Text, colour ? { color: STATE_COLOUR[row.state] } : {}, cells[stateAt] ?? ""),
        `  ${cells.slice(stateAt + 1).join("  ")}`,
      );
    }),
    line("keys", "up/down select  s stop  i interrupt  enter/l transcript  r result  q quit", {
      dimColor: colour,
    }),
    line(
      "status",
      problem ? `! ${shown(problem)}` : shown(status),
      problem && colour ? { color: "red" } : {},
    ),
  );
}

const emptySnapshot = {
  workers: [],
  listedAt: 0,
  activity: new Map(),
  runs: [],
  plans: 0,
  problems: [],
} as const;
