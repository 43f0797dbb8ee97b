import { MAX_TIMEOUT_SECONDS } from "../protocol/limits.js";
import { ROLES, type Role } from "../worker/types.js";
import { type SpawnFlags, spawn } from "./actions/spawn.js";
import { type GlobalOptions, positiveNumber } from "./context.js";
import type { QuickLine } from "./quick-argv.js";
import { runQuickly } from "./quick-run.js";

// `baton spawn` by the quick path (see quick.ts): the spawn action commander calls, with the flags it
// would give it, bundled into a file of its own (dist/cli/bundle/quick-spawn.js), so that the command an
// orchestrator runs once per worker loads neither commander nor the other commands.

type SpawnLine = Extract<QuickLine, { command: "spawn" }>;

/** `--timeout`, checked as commands/spawn.ts has commander check it. */
const timeout = positiveNumber("--timeout", MAX_TIMEOUT_SECONDS);

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** The flags commander would give the spawn action for `line`; throws on a value it would refuse. */
export function spawnFlags(line: SpawnLine): SpawnFlags {
  const role = line.values.get("--role");
  if (role !== undefined && !isRole(role)) throw new Error(`--role ${role}: not a role`);
  const seconds = line.values.get("--timeout");
  const list = (flag: string) => (line.lists.has(flag) ? [...line.lists.get(flag)!] : undefined);
  const given = (flag: string) => (line.flags.has(flag) ? true : undefined);
  return {
    task: list("--task"),
    write: list("--write"),
    label: line.values.get("--label"),
    role,
    cwd: line.values.get("--cwd"),
    model: line.values.get("--model"),
    timeout: seconds === undefined ? undefined : timeout(seconds),
    readOnly: given("--read-only"),
    isolate: given("--isolate"),
    unconfined: given("--unconfined"),
    json: given("--json"),
    wait: line.toggles.get("--wait"),
    search: line.toggles.get("--search"),
  };
}

/** Runs a `spawn` line; resolves with the exit code, or undefined when the full program should run it. */
export function runQuickSpawn(
  line: SpawnLine,
  where: Pick<GlobalOptions, "io" | "open"> = {},
): Promise<number | undefined> {
  return runQuickly(
    { home: line.home, ...where },
    () => spawnFlags(line),
    (global, flags) => spawn(global, [...line.ids], flags),
  );
}
