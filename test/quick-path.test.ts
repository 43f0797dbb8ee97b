import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../dist/cli/program.js";
import { quickCall } from "../dist/cli/quick.js";
import { quickLine } from "../dist/cli/quick-argv.js";
import { spawnFlags } from "../dist/cli/quick-spawn.js";

// `baton ls`, `result`, `poll`, `wait` and `spawn` skip commander (src/cli/quick.ts, quick-spawn.ts). For every command line it takes, the
// quick path must call the same action with the same ids and options as commander would; every other
// line, help and mistakes included, it must leave to commander.

type Call = { command: string; home: string | undefined; args: unknown[] };

/** Drops what an action cannot tell from absent: undefined values and false flags. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== false)
      .map(([k, v]) => [k, plain(v)]),
  );
}

/** What commander does with `argv`: the action it calls, or "refused" (help, a usage error). */
async function byCommander(argv: readonly string[]): Promise<Call | "refused"> {
  const program = buildProgram();
  let call: Call | undefined;
  const silence = (command: Command) => {
    command.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    command.commands.forEach(silence);
  };
  silence(program);
  for (const name of ["ls", "result", "poll", "wait", "spawn"]) {
    const command = program.commands.find((c) => c.name() === name)!;
    command.action((...args: unknown[]) => {
      call = { command: name, home: program.opts().home, args: args.slice(0, -1) };
    });
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch {
    return "refused";
  }
  return call ?? "refused";
}

/** What the quick path does with `argv`: the action it calls, or undefined (commander's turn). */
function byQuickPath(argv: readonly string[]): Call | undefined {
  const line = quickLine(argv);
  if (!line) return undefined;
  if (line.command === "spawn") {
    try {
      return { command: "spawn", home: line.home, args: [line.ids, spawnFlags(line)] };
    } catch {
      return undefined;
    }
  }
  let call: ReturnType<typeof quickCall>;
  try {
    call = quickCall(line);
  } catch {
    return undefined;
  }
  const args =
    call.command === "ls"
      ? [call.opts]
      : call.command === "result" || call.command === "wait"
        ? [call.ids, call.opts]
        : [call.id, { ...call.opts }];
  return { command: call.command, home: line.home, args };
}

const QUICK: string[][] = [
  ["ls"],
  ["ls", "--json"],
  ["--home", "/tmp/h", "ls"],
  ["--home=/tmp/h", "ls", "--json"],
  ["ls", "--home", "/tmp/h"],
  ["result", "w1"],
  ["result", "w1", "--json"],
  ["result", "w1", "w2", "w10"],
  ["result", "--all"],
  ["result", "--all", "--json"],
  ["result"],
  ["result", "--all", "w1"],
  ["poll", "w1"],
  ["poll", "w1", "--wait", "5000"],
  ["poll", "--wait=0", "w1"],
  ["poll", "w1", "--raw", "--max-bytes", "100", "--reader", "lead", "--since", "12"],
  ["poll", "w1", "--json", "--reader=me"],
  ["poll", "w1", "--wait", "1e3"],
  ["poll", "w1", "--wait", "5", "--wait", "6"],
  ["poll", "ls"],
  ["ls", "--json", "--json"],
  ["wait"],
  ["wait", "w1", "w2"],
  ["wait", "--any", "w1", "--timeout", "30", "--json"],
  ["wait", "--timeout=0.5", "w3"],
  ["spawn", "map the parser"],
  ["spawn", "map", "the", "parser", "--label", "scout", "--role", "scout"],
  ["spawn", "--task", "one", "--task", "two", "--json"],
  ["spawn", "--wait", "--role", "research", "--no-search", "look it up"],
  ["spawn", "--no-wait", "--write", "src/a.ts", "--write=src/b.ts", "fix it"],
  ["spawn", "--read-only", "--cwd", "/tmp", "--model", "m1", "--timeout", "90", "x"],
  ["spawn", "--isolate", "--unconfined", "--search", "--wait", "--no-wait", "x"],
  ["--home", "/tmp/h", "spawn", "--timeout=1.5", "x"],
  ["spawn", "--role", "reviewer", "--lens", "security", "--goal", "g", "--success", "s", "review"],
  [
    "spawn",
    "--non-goal",
    "a",
    "--non-goal=b",
    "--constraint",
    "c",
    "--pointer",
    "src",
    "--decision",
    "d",
    "x",
  ],
  ["spawn", "--context", "pack.yaml", "--template", "scout=t.md", "--template", "reviewer=r.md", "x"],
  ["spawn", "--idle-timeout", "30", "--max-tokens", "1000", "--max-cost", "$0.50", "--retries", "0", "x"],
  ["spawn", "--max-parallel", "4", "--bin", "/b/codex", "--codex-bin", "/c/codex", "--task", "t"],
  ["spawn", "--backend", "claude", "x"],
  ["spawn", "--backend=acp:opencode", "--task", "t"],
  ["spawn", "--cmd", "my-agent --flag", "x"],
  ["spawn", "--backend", "command", "--cmd=sh -c 'cat'", "--task", "a", "--task", "b"],
  ["spawn", "--agent-cmd", "gemini --acp", "--wait", "x"],
  ["spawn", "--continue", "w1", "more"],
  ["spawn", "--continue=w12", "--cwd", "/tmp", "--wait", "--task", "a", "--task", "b"],
  ["spawn", "--tasks", "plan.jsonl"],
  ["spawn", "--tasks=plan.jsonl", "--task", "one more", "--role", "scout"],
];

const OTHERS: string[][] = [
  [],
  ["ls", "--help"],
  ["ls", "-h"],
  ["--version"],
  ["ls", "w1"],
  ["ls", "--json=1"],
  ["ls", "--bogus"],
  ["--json", "ls"],
  ["lss"],
  ["poll"],
  ["poll", "w1", "w2"],
  ["poll", "w1", "--wait"],
  ["poll", "w1", "--wait", "-1"],
  ["poll", "w1", "--wait", "0x10"],
  ["poll", "w1", "--wait", ""],
  ["poll", "w1", "--wait", "1.5"],
  ["poll", "w1", "--wait", "99999999999"],
  ["poll", "w1", "--max-bytes", "0"],
  ["poll", "w1", "--reader", "--raw"],
  ["poll", "w1", "--reader="],
  ["poll", "w1", "--no-raw"],
  ["poll", "w1", "--"],
  ["poll", "--", "w1"],
  ["poll", "-w1"],
  ["poll", ""],
  ["result", ""],
  ["result", "w1", "--raw"],
  ["--home"],
  ["--home", "--json", "ls"],
  ["wait", "w1", "--timeout", "0"],
  ["wait", "w1", "--timeout"],
  ["wait", "--all"],
  ["wait", "w1", "--raw"],
  ["spawn"],
  ["spawn", "-"],
  ["spawn", "x", "--task", "y"],
  ["spawn", "--role", "boss", "x"],
  ["spawn", "--timeout", "0", "x"],
  ["spawn", "--continue", "w1"],
  ["spawn", "--continue", "more"],
  ["spawn", "--tasks", "-"],
  ["spawn", "--tasks", "f.jsonl", "and words"],
  ["spawn", "--label"],
  ["spawn", "--no-json", "x"],
  ["spawn", "--backend", "my-named-agent", "x"],
  ["spawn", "--backend", "", "x"],
  ["spawn", "--cmd", "-x", "y"],
  ["spawn", "--cmd"],
  ["spawn", "--help"],
  ["spawn", "--lens", "x".repeat(201), "x"],
  ["spawn", "--max-cost", "free", "x"],
  ["spawn", "--retries", "1.5", "x"],
  ["spawn", "--max-tokens", "0", "x"],
  ["spawn", "--max-parallel", "100000", "x"],
  ["spawn", "--idle-timeout", "-5", "x"],
  ["spawn", "--goal", "x"],
];

describe("the quick path for ls, result, poll, wait and spawn", () => {
  test("takes the usual forms, and calls the action commander would, with the same ids and options", async () => {
    for (const argv of QUICK) {
      const quick = byQuickPath(argv);
      assert.ok(quick, `baton ${argv.join(" ")} takes the quick path`);
      const commander = await byCommander(argv);
      assert.notEqual(commander, "refused", `commander takes baton ${argv.join(" ")} too`);
      assert.deepEqual(plain(quick), plain(commander), `baton ${argv.join(" ")}`);
    }
  });

  test("leaves help, mistakes and every other command to commander", async () => {
    for (const argv of OTHERS) {
      assert.equal(byQuickPath(argv), undefined, `baton ${argv.join(" ")} goes through commander`);
    }
  });

  test("never calls an action commander would not call, or call otherwise", async () => {
    const words = [
      "ls",
      "result",
      "poll",
      "w1",
      "w2",
      "--json",
      "--all",
      "--raw",
      "--home",
      "/h",
      "--wait",
      "5",
      "wait",
      "--any",
    ];
    const more = ["--reader", "r", "--since", "-1", "--max-bytes", "0", "--", "-x", "=", "--wait=7"];
    const spawnWords = ["--task", "t", "--write", "--label", "--role", "scout", "--no-wait", "--search"];
    const spawnMore = ["--no-search", "--read-only", "--timeout", "--isolate", "--cwd", "boss", "-"];
    const packWords = [
      "--goal",
      "--non-goal",
      "--pointer",
      "--template",
      "--max-cost",
      "$1",
      "--retries",
      "--lens",
    ];
    const backendWords = [
      "--backend",
      "codex",
      "acp:gemini",
      "my-agent",
      "--cmd",
      "--agent-cmd",
      "--continue",
    ];
    const tasksWords = ["--tasks", "f.jsonl", "w1"];
    const pool = [
      ...words,
      ...more,
      ...spawnWords,
      ...spawnMore,
      ...packWords,
      ...backendWords,
      ...tasksWords,
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    let quick = 0;
    for (let i = 0; i < 20_000; i++) {
      const tail = Array.from({ length: next() % 5 }, () => pool[next() % pool.length]!);
      const argv = [
        ...(next() % 5 === 0 ? [] : [["ls", "result", "poll", "wait", "spawn"][next() % 5]!]),
        ...tail,
      ];
      const fast = byQuickPath(argv);
      if (!fast) continue;
      quick++;
      assert.deepEqual(plain(fast), plain(await byCommander(argv)), `baton ${argv.join(" ")}`);
    }
    assert.ok(quick > 300, `enough random lines took the quick path (${quick})`);
  });
});
