// Baton's dashboard page: the listing (read again after the events that change it), the workspace's
// events live over server-sent events, and one worker seen closely. Every text that came from a worker
// or a model (labels, answers, transcripts, file names, diffs, reasons) is put in the page as text
// (textContent), never as markup. All URLs are relative: the page lives under /t/<token>/, and so does
// everything it asks for.

const FINAL = new Set(["succeeded", "failed", "canceled", "timed_out", "over_budget", "lost"]);
/** Events read back at start, to tell when each worker was last active. */
const BACKLOG = 2000;
const MARKS = { completed: "[x]", in_progress: "[>]", pending: "[ ]" };

const $ = (id) => document.getElementById(id);
let view = { workers: [], plans: [], runs: [], problems: [], maxParallel: 0, seq: 0 };
let listedAt = Date.now();
const activity = new Map(); // worker id -> { at, what }
let lastSeq = 0;
let source;
let selected;
let tab = "answer";

/** An element with `text` as its text, never parsed as markup. */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

async function ask(path, init) {
  const response = await fetch(path, { cache: "no-store", ...init });
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw Object.assign(new Error(body.error ?? `HTTP ${response.status}`), { status: response.status });
  return body;
}

/** Runs `work` now, or once it is done if it runs already, and then at most once per `ms`. */
function throttled(work, ms) {
  let busy = false;
  let wanted = false;
  const run = async () => {
    busy = true;
    wanted = false;
    try {
      await work();
    } catch (error) {
      setConnection(`error: ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
    busy = false;
    if (wanted) void run();
  };
  return () => {
    if (busy) wanted = true;
    else void run();
  };
}

const refreshSoon = throttled(async () => {
  const next = await ask("api/state");
  view = next;
  listedAt = Date.now();
  render();
  if (selected) renderDetailHead();
}, 250);

// ---- numbers, as Baton writes them

function duration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return minutes < 60
    ? `${minutes}m${String(seconds).padStart(2, "0")}s`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
const count = (n) => n.toLocaleString("en-US");
const usd = (n) => (n === 0 ? "$0" : n < 0.1 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`);
/** A worker's cost: `$0.0123`, `unpriced` (never a silent zero), or `-` before it has run. */
const costText = (cost) => (!cost ? "-" : typeof cost.usd === "number" ? usd(cost.usd) : "unpriced");
/** Where a cost came from, for its cell's title. */
function costSource(cost) {
  if (!cost) return "";
  if (cost.source === "unpriced") return `unpriced: ${cost.why}`;
  const table = cost.table ? `: ${cost.table.model} at ${cost.table.source}, ${cost.table.date}` : "";
  return `${cost.source === "agent" ? "the agent's own figure" : `${cost.source} prices`}${table}`;
}
const elapsedOf = (w) => w.elapsedMs + (w.state === "running" ? Date.now() - listedAt : 0);
const stateText = (w) =>
  (w.state === "queued" && w.queuePosition ? `queued #${w.queuePosition}` : w.state) +
  (w.confinement === "unconfined" ? " (unconfined)" : "");

function activityText(id) {
  const last = activity.get(id);
  return last ? `${duration(Math.max(0, Date.now() - last.at))} ago: ${last.what}` : "-";
}

// ---- drawing

function render() {
  const rows = view.workers.map((w) => {
    const row = el("tr");
    row.dataset.id = w.id;
    row.className = w.id === selected ? "selected" : "";
    const cells = [
      ["id", w.id],
      ["label", w.label ?? "-"],
      ["role", w.role ?? "-"],
      ["backend", w.backend ?? "codex"],
      [`state state-${w.state}`, stateText(w)],
      ["elapsed", duration(elapsedOf(w))],
      ["tokens", count(w.tokens)],
      ["cost", costText(w.cost)],
      ["activity", activityText(w.id)],
    ];
    for (const [name, text] of cells) row.append(el("td", text, name));
    row.cells[7].title = costSource(w.cost);
    if (w.reasonText && FINAL.has(w.state) && w.state !== "succeeded") row.cells[4].title = w.reasonText;
    row.addEventListener("click", () => select(w.id));
    return row;
  });
  $("workers").tBodies[0].replaceChildren(...rows);
  $("no-workers").hidden = view.workers.length > 0;
  const running = view.workers.filter((w) => w.state === "running").length;
  const tokens = view.workers.reduce((sum, w) => sum + w.tokens, 0);
  const dollars = view.workers.reduce((sum, w) => sum + (w.cost?.usd ?? 0), 0);
  const unpriced = view.workers.filter((w) => w.cost?.source === "unpriced").length;
  $("summary").textContent =
    `${view.workers.length} workers, ${running} running (at most ${view.maxParallel}), ${count(tokens)} tokens, ` +
    (unpriced === 0 ? usd(dollars) : `${usd(dollars)} + ${unpriced} unpriced`);
  $("problems").hidden = view.problems.length === 0;
  $("problems").replaceChildren(...view.problems.map((p) => el("p", `warning: ${p}`)));
  $("plans").replaceChildren(...view.plans.map(planBlock));
  $("runs-section").hidden = view.runs.length === 0;
  $("runs").replaceChildren(...view.runs.map(runItem));
}

function planBlock(shown) {
  const block = el("div", undefined, "plan");
  block.append(el("h2", shown.title));
  if (shown.problem) block.append(el("p", `warning: ${shown.problem}`, "problem"));
  if (shown.plan.explanation) block.append(el("p", shown.plan.explanation, "muted"));
  const list = el("ul", undefined, "steps");
  for (const step of shown.plan.steps)
    list.append(el("li", `${MARKS[step.status] ?? "[?]"} ${step.step}`, step.status));
  block.append(list);
  return block;
}

function runItem(run) {
  const item = el("li");
  item.dataset.run = run.id;
  const step = run.steps.at(-1);
  const where = run.state === "running" && step ? `, at ${step.name}` : "";
  item.append(el("strong", run.id), el("span", ` ${run.pattern}: ${run.state}${where}`, "run-state"));
  const steps = el("ol", undefined, "run-steps");
  for (const s of run.steps) steps.append(el("li", `${s.name}: ${s.workers.join(" ")}`));
  item.append(steps);
  return item;
}

function setConnection(text) {
  $("connection").textContent = text;
}

// ---- one worker

function select(id) {
  selected = id;
  $("detail").hidden = false;
  $("action-note").textContent = "";
  render();
  renderDetailHead();
  void loadTab();
}

function renderDetailHead() {
  const w = view.workers.find((x) => x.id === selected);
  if (!w) return;
  $("detail-title").textContent = w.label ? `${w.id} (${w.label})` : w.id;
  $("detail-state").textContent = w.reasonText ? `${stateText(w)}: ${w.reasonText}` : stateText(w);
  $("detail-state").className = `state state-${w.state}`;
  $("stop").disabled = FINAL.has(w.state);
  $("interrupt").disabled = w.state !== "running";
}

async function loadTab() {
  const id = selected;
  for (const name of ["answer", "transcript", "changes"]) $(`tab-${name}`).hidden = name !== tab;
  for (const button of document.querySelectorAll(".tab"))
    button.classList.toggle("active", button.dataset.tab === tab);
  try {
    if (tab === "answer") await loadAnswer(id);
    else if (tab === "transcript") await loadTranscript(id);
    else await loadChanges(id);
  } catch (error) {
    if (id === selected) $(`${tab}-note`).textContent = error.message;
  }
}

async function loadAnswer(id) {
  try {
    const result = await ask(`api/workers/${id}/result`);
    if (id !== selected) return;
    $("answer-note").textContent = result.answer ? `${result.state}` : `${result.state}: no final answer`;
    $("answer").textContent = result.answer;
  } catch (error) {
    if (error.status !== 409) throw error;
    $("answer-note").textContent = "still at work: the final answer shows when it ends";
    $("answer").textContent = "";
  }
}

async function loadTranscript(id) {
  const shown = await ask(`api/workers/${id}/transcript`);
  if (id !== selected) return;
  $("transcript-note").textContent = shown.cut
    ? `(its first ${count(shown.cut)} characters are left out)`
    : "";
  $("transcript").textContent = shown.text || "(nothing yet)";
}

async function loadChanges(id) {
  const changes = await ask(`api/workers/${id}/changes`);
  if (id !== selected) return;
  const from = changes.from;
  $("changes-note").textContent =
    from.kind === "commit"
      ? `commit ${from.commit.slice(0, 10)} on branch ${from.branch} (nothing merged)`
      : from.kind === "files"
        ? from.base === "HEAD"
          ? "the files its agent reported changing, as they are now, against HEAD"
          : "the files its agent reported changing (not in a git repository: no diff)"
        : from.why;
  $("changed-files").replaceChildren(
    ...changes.files.map((f) => el("li", `${f.change}  ${f.path}${f.note ? ` (${f.note})` : ""}`)),
  );
  const lines = changes.diff ? changes.diff.split("\n") : [];
  $("diff").replaceChildren(...lines.map((line) => el("span", `${line}\n`, diffClass(line))));
  if (changes.cut) $("diff").append(el("span", "[... the rest of the diff is cut ...]\n", "muted"));
}

function diffClass(line) {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "";
}

const reloadTab = throttled(loadTab, 1000);

async function act(action) {
  const id = selected;
  $("action-note").textContent = action === "stop" ? `stopping ${id}...` : `interrupting ${id}...`;
  try {
    await ask(`api/workers/${id}/${action}`, { method: "POST" });
    $("action-note").textContent = action === "stop" ? `stopped ${id}` : `sent Ctrl+C to ${id}`;
  } catch (error) {
    $("action-note").textContent = `${action} failed: ${error.message}`;
  }
  refreshSoon();
}

// ---- events

function describe(event) {
  switch (event.type) {
    case "state":
      return event.to;
    case "usage":
      return `${count(event.tokens)} tokens${event.cost ? `, ${costText(event.cost)}` : ""}`;
    case "answer":
      return "answer recorded";
    default:
      return event.type;
  }
}

function onEvent(event) {
  lastSeq = Math.max(lastSeq, event.seq);
  if (event.worker) activity.set(event.worker, { at: Date.parse(event.at), what: describe(event) });
  if (event.seq > view.seq) {
    if (event.type === "usage") {
      const w = view.workers.find((x) => x.id === event.worker);
      if (w) {
        w.tokens = event.tokens;
        if (event.cost) w.cost = event.cost;
      }
    } else if (event.type !== "output") refreshSoon();
    if (event.worker && event.worker === selected && (event.type !== "output" || tab === "transcript"))
      reloadTab();
  }
  drawSoon();
}

let drawing = false;
function drawSoon() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => {
    drawing = false;
    render();
  });
}

let opened = false;
function connect(since) {
  source?.close();
  source = new EventSource(`events?since=${since}`);
  source.addEventListener("open", () => {
    setConnection("live");
    if (opened) refreshSoon(); // what changed while it was away
    opened = true;
  });
  source.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
  source.addEventListener("missed", () => refreshSoon());
  source.addEventListener("lost", () => setConnection("the supervisor went away: reconnecting"));
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) return setConnection("reconnecting");
    setConnection("disconnected: trying again");
    setTimeout(() => connect(lastSeq), 2000);
  });
}

async function start() {
  for (const button of document.querySelectorAll(".tab")) {
    button.addEventListener("click", () => {
      tab = button.dataset.tab;
      void loadTab();
    });
  }
  $("stop").addEventListener("click", () => act("stop"));
  $("interrupt").addEventListener("click", () => act("interrupt"));
  view = await ask("api/state");
  listedAt = Date.now();
  lastSeq = view.seq;
  render();
  connect(Math.max(0, view.seq - BACKLOG));
  setInterval(drawSoon, 1000);
}

start().catch((error) => setConnection(`cannot load the workspace: ${error.message}`));
