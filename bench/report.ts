import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";
import { CODEX_BIN, type Section } from "./common.ts";

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
    table(
      ["measurement", "figure", "target", "result"],
      targets.map((t) => [t.name, t.figure, t.target, t.pass ? "PASS" : "MISS"]),
    ),
    "",
    ...sections.flatMap((s) => [
      `## ${s.title}`,
      "",
      ...s.about.flatMap((p) => [p, ""]),
      table(s.columns, s.rows),
      "",
      ...s.notes.flatMap((n) => [n, ""]),
    ]),
  ].join("\n");
}

/**
 * `report` with one section measured again: its part and its rows of the targets table are replaced
 * (or added at the end), and everything else is kept as it was.
 */
export function spliceSection(report: string, section: Section): string {
  const part = [
    `## ${section.title}`,
    "",
    ...section.about.flatMap((p) => [p, ""]),
    table(section.columns, section.rows),
    "",
    ...section.notes.flatMap((n) => [n, ""]),
  ].join("\n");
  const start = report.indexOf(`## ${section.title}`);
  const end = start < 0 ? -1 : report.indexOf("\n## ", start + 1);
  let out =
    start < 0
      ? `${report.trimEnd()}\n\n${part}`
      : `${report.slice(0, start)}${part}${end < 0 ? "" : report.slice(end + 1)}`;
  for (const t of section.targets) {
    const row = `| ${t.name} | ${t.figure} | ${t.target} | ${t.pass ? "PASS" : "MISS"} |`;
    const lines = out.split("\n");
    const at = lines.findIndex((line) => line.startsWith(`| ${t.name} |`));
    if (at >= 0) lines[at] = row;
    else {
      const heading = lines.indexOf("## Targets");
      let last = heading + 1;
      while (last + 1 < lines.length && !lines[last + 1]?.startsWith("| ")) last++;
      while (last + 1 < lines.length && lines[last + 1]?.startsWith("| ")) last++;
      lines.splice(last + 1, 0, row);
    }
    out = lines.join("\n");
  }
  return out;
}
