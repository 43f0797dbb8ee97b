// The command lines the quick path runs without commander: `ls`, `result`, `poll`, `wait` and `spawn`
// in the plain forms an orchestrator types once per worker or per look, which is where start-up time shows.
// Anything else (help, an unknown flag, a flag with no value or a value that looks like a flag, `--`,
// a prompt on stdin) is left to commander, so every mistake is reported exactly as before. A repeated
// flag's last value wins, as in commander, but for the ones spawn collects (`--task`, `--write`).
// Values are checked later, in quick.ts, which also leaves a bad one to commander.

/** What every quick line has: the store it names, if any, and its plain flags. */
interface Line {
  readonly home?: string;
  readonly flags: ReadonlySet<string>;
}

/** A line with words (worker ids; spawn's prompt words) and flags that take a value. */
interface Worded extends Line {
  readonly ids: readonly string[];
  readonly values: ReadonlyMap<string, string>;
}

/** A command line the quick path understands, in the shapes commander would have given its action. */
export type QuickLine =
  | (Line & { readonly command: "ls" })
  | (Line & { readonly command: "result"; readonly ids: readonly string[] })
  | (Worded & { readonly command: "poll" | "wait" })
  | (Worded & {
      readonly command: "spawn";
      /** Each collected flag's values, in order. */
      readonly lists: ReadonlyMap<string, readonly string[]>;
      /** `--wait`/`--no-wait` and `--search`/`--no-search`: the last one given, by the positive name. */
      readonly toggles: ReadonlyMap<string, boolean>;
    });

type Command = QuickLine["command"];

/** Per command: its flags, flags that take a value, and the ones of those it collects (see commands/). */
interface Grammar {
  readonly flags: readonly string[];
  readonly values: readonly string[];
  readonly lists?: readonly string[];
  /** Flags that also have a `--no-` form. */
  readonly toggles?: readonly string[];
}

const GRAMMAR: Record<Command, Grammar> = {
  ls: { flags: ["--json"], values: [] },
  result: { flags: ["--json", "--all"], values: [] },
  poll: { flags: ["--raw", "--json"], values: ["--wait", "--max-bytes", "--reader", "--since"] },
  wait: { flags: ["--any", "--json"], values: ["--timeout"] },
  spawn: {
    flags: ["--json", "--read-only", "--isolate", "--unconfined"],
    values: [
      "--label",
      "--role",
      "--cwd",
      "--model",
      "--timeout",
      "--lens",
      "--goal",
      "--success",
      "--context",
      "--idle-timeout",
      "--max-tokens",
      "--max-cost",
      "--retries",
      "--max-parallel",
      "--bin",
      "--codex-bin",
      "--backend",
      "--cmd",
      "--agent-cmd",
      "--continue",
      "--tasks",
    ],
    lists: ["--task", "--write", "--non-goal", "--constraint", "--pointer", "--decision", "--template"],
    toggles: ["--wait", "--search"],
  },
};

const isCommand = (word: string): word is Command => Object.hasOwn(GRAMMAR, word);

/** The quick form of `argv` (the words after `baton`), or undefined when commander should parse it. */
export function quickLine(argv: readonly string[]): QuickLine | undefined {
  let home: string | undefined;
  let command: Command | undefined;
  const ids: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const toggles = new Map<string, boolean>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const name = eq < 0 ? word : word.slice(0, eq);
    const inline = eq < 0 ? undefined : word.slice(eq + 1);
    const grammar = command === undefined ? undefined : GRAMMAR[command];
    const toggle = word.startsWith("--no-") ? `--${word.slice(5)}` : word;
    if (name === "--home" || grammar?.values.includes(name) || grammar?.lists?.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "" || value.startsWith("-")) return undefined;
      if (name === "--home") home = value;
      else if (grammar?.lists?.includes(name)) lists.set(name, [...(lists.get(name) ?? []), value]);
      else values.set(name, value);
    } else if (grammar?.toggles?.includes(toggle)) {
      toggles.set(toggle, toggle === word);
    } else if (word.startsWith("-")) {
      if (!grammar?.flags.includes(word)) return undefined;
      flags.add(word);
    } else if (command === undefined) {
      if (!isCommand(word)) return undefined;
      command = word;
    } else {
      if (word === "") return undefined;
      ids.push(word);
    }
  }
  if (command === undefined) return undefined;
  const base = home === undefined ? {} : { home };
  if (command === "ls") return ids.length === 0 ? { ...base, command, flags } : undefined;
  if (command === "poll") return ids.length === 1 ? { ...base, command, ids, flags, values } : undefined;
  if (command === "wait") return { ...base, command, ids, flags, values };
  if (command === "spawn") {
    // The tasks as words, or by --task and --tasks FILE (a prompt or --tasks on stdin is commander's:
    // `-` is refused above, as a value that looks like a flag).
    if (ids.length > 0 === (lists.has("--task") || values.has("--tasks"))) return undefined;
    return { ...base, command, ids, flags, values, lists, toggles };
  }
  return { ...base, command, ids, flags };
}
