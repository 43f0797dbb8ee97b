import { isBackendName } from "../backend/names.js";
import { MAX_PARALLEL_LIMIT, MAX_TIMEOUT_SECONDS } from "../protocol/limits.js";
import { ROLES, type Role } from "../worker/types.js";
import { type SpawnFlags, spawn } from "./actions/spawn.js";
import {
  type GlobalOptions,
  lensName,
  nonNegativeInteger,
  positiveInteger,
  positiveNumber,
} from "./context.js";
import { dollars } from "./limits.js";
import type { QuickLine } from "./quick-argv.js";
import { runQuickly } from "./quick-run.js";

// `baton spawn` by the quick path (see quick.ts): the spawn action commander calls, with the flags it
// would give it, bundled into a file of its own (dist/cli/bundle/quick-spawn.js), so that the command an
// orchestrator runs once per worker loads neither commander nor the other commands.

type SpawnLine = Extract<QuickLine, { command: "spawn" }>;

/** The flags with a value that commander checks or converts, as commands/spawn.ts and limits.ts have it. */
const PARSED: Record<string, (value: string) => unknown> = {
  "--timeout": positiveNumber("--timeout", MAX_TIMEOUT_SECONDS),
  "--lens": lensName,
  "--idle-timeout": positiveNumber("--idle-timeout"),
  "--max-tokens": positiveInteger("--max-tokens"),
  "--max-cost": dollars("--max-cost"),
  "--retries": nonNegativeInteger("--retries"),
  "--max-parallel": positiveInteger("--max-parallel", MAX_PARALLEL_LIMIT),
  // A built-in backend only: a named agent of the config (or a name commander refuses) takes
  // commander's way, which reads the config to tell them apart (backend-option.ts).
  "--backend": (value) => {
    if (!isBackendName(value)) throw new Error(`--backend ${value}: not a built-in backend`);
    return value;
  },
};

/** Commander's name for a flag's value: `--max-cost` is `maxCost`. */
const camel = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** The flags commander would give the spawn action for `line`; throws on a value it would refuse. */
export function spawnFlags(line: SpawnLine): SpawnFlags {
  const role = line.values.get("--role");
  if (role !== undefined && !isRole(role)) throw new Error(`--role ${role}: not a role`);
  const given = (flag: string) => (line.flags.has(flag) ? true : undefined);
  const values = Object.fromEntries(
    [...line.values].map(([flag, value]) => [camel(flag), PARSED[flag] ? PARSED[flag](value) : value]),
  );
  const lists = Object.fromEntries([...line.lists].map(([flag, all]) => [camel(flag), [...all]]));
  return {
    ...values,
    ...lists,
    role,
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
