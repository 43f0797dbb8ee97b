import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";
import { CODEX_BIN, type Section, type Target } from "./common.ts";

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
  readonly codex: string;
}

export function machine(): Machine {
  let cpu = "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {}
  return {
    cpu,
    cores: availableParallelism(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    codex: execFileSync(CODEX_BIN, ["--version"], { encoding: "utf8" }).trim(),
  };
}

const table = (columns: readonly string[], rows: readonly (readonly string[])[]) =>
  [
    `| ${columns.join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");

export function render(
  sections: readonly Section[],
  info: Machine,
  startedAt: Date,
  loadAtStart: number,
): string {
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const targets = sections.flatMap((s) => s.targets);
  return [
    "# Baton benchmark results",
    "",
    "Reproduce with `npm run bench` (it builds, then runs `bench/main.ts` and overwrites this file).",
    "",
    `- Date: ${startedAt.toISOString()} (the run took ${seconds.toFixed(0)} s)`,
    `- Machine: ${info.cpu}, ${info.cores} cores, ${info.memory} memory, ${info.kernel}`,
    `- Node ${info.node}, ${info.codex} (the native binary from \`node_modules/@openai/codex-*\`)`,
    `- Load average (1 min) at start ${loadAtStart.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)}: anything else ` +
      "running on the machine shows up in both the baseline and Baton's figures, and in their spread.",
    "",
    "Every figure is set against a baseline measured in the same run. Codex talks to a scripted " +
      "Responses-API model on loopback (`dist/scripted-model`) that answers each prompt with one message, " +
      "`done: <task>`; every answer is checked. Each workspace has its own temporary `BATON_HOME`; all runs " +
      "share one temporary `CODEX_HOME` and an empty temporary `HOME` (codex starts the user's login shell on " +
      "every run, and the user's rc files must not weigh on the figures). Timings are wall-clock.",
    "",
    "## Targets",
    "",
    table(TARGET_COLUMNS, targets.map(targetRow)),
    "",
    ...sections.flatMap(sectionLines),
  ].join("\n");
}

const TARGET_COLUMNS = ["measurement", "figure", "target", "result"];
const targetRow = (t: Target) => [t.name, t.figure, t.target, t.pass ? "PASS" : "MISS"];

function sectionLines(s: Section): string[] {
  return [
    `## ${s.title}`,
    "",
    ...s.about.flatMap((p) => [p, ""]),
    table(s.columns, s.rows),
    "",
    ...s.notes.flatMap((n) => [n, ""]),
  ];
}

/**
 * Puts freshly measured sections into an existing report: each replaces the section with the same tag
 * (the title's first word, such as `(e)`), and its rows in the targets table replace that tag's rows.
 * The other sections, measured in an earlier run, are kept as they were.
 */
export function splice(existing: string, sections: readonly Section[]): string {
  const lines = existing.replace(/\n+$/, "").split("\n");
  for (const section of sections) {
    const tag = section.title.split(" ")[0]!;
    const heading = (line: string) => line.startsWith(`## ${tag} `);
    const at = lines.findIndex(heading);
    const fresh = sectionLines(section);
    if (at < 0) lines.push("", ...fresh);
    else {
      const next = lines.findIndex((line, i) => i > at && line.startsWith("## "));
      const end = next < 0 ? lines.length : next;
      lines.splice(at, end - at, ...fresh);
    }
    const targetsAt = lines.indexOf("## Targets");
    if (targetsAt < 0) continue;
    const first = lines.findIndex((line, i) => i > targetsAt && line.startsWith("|"));
    let last = first;
    while (lines[last + 1]?.startsWith("|")) last++;
    // The header and its separator stay first; the rows go in the order of their sections' tags.
    const [header, separator, ...others] = lines.slice(first, last + 1);
    const kept = others.filter((line) => !line.startsWith(`| ${tag} `));
    const rows = section.targets.map((t) => `| ${targetRow(t).join(" | ")} |`);
    const ordered = [...kept, ...rows]
      .map((row, i) => ({ row, i }))
      .sort((a, b) => {
        const byTag = tagOf(a.row).localeCompare(tagOf(b.row));
        return byTag !== 0 ? byTag : a.i - b.i;
      });
    lines.splice(first, last - first + 1, header!, separator!, ...ordered.map((o) => o.row));
  }
  return `${lines.join("\n").replace(/\n+$/, "")}\n`;
}

/** A targets row's section tag, "(a)" in "| (a) spawn-to-result ... |". */
const tagOf = (row: string): string => /^\| (\([a-z]\))/.exec(row)?.[1] ?? "";
