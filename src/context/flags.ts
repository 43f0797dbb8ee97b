import { packFromValues } from "./fields.js";
import { type ContextPack, isEmptyContextPack } from "./pack.js";
import { checkPointers } from "./pointers.js";

/** Context given on the command line; each list flag may be repeated. */
export interface ContextFlags {
  readonly goal?: string;
  readonly nonGoal?: readonly string[];
  readonly constraint?: readonly string[];
  readonly pointer?: readonly string[];
  readonly decision?: readonly string[];
  readonly success?: string;
}

/** The pack the flags describe, or `undefined` when none was given. Pointers are checked against `cwd`. */
export function contextPackFromFlags(flags: ContextFlags, cwd: string): ContextPack | undefined {
  const pack = packFromValues({
    goal: flags.goal,
    nonGoals: flags.nonGoal,
    constraints: flags.constraint,
    pointers: flags.pointer,
    priorDecisions: flags.decision,
    successCheck: flags.success,
  });
  if (isEmptyContextPack(pack)) return undefined;
  checkPointers(pack, cwd);
  return pack;
}

/**
 * `b` added to `a`, as flags add to a file's pack: lists are joined (repeats dropped); a goal or success
 * check in `b` replaces the one in `a`, as a flag overrides a config file.
 */
export function mergeContextPacks(
  a: ContextPack | undefined,
  b: ContextPack | undefined,
): ContextPack | undefined {
  if (!a || !b) return a ?? b;
  const join = (x: readonly string[], y: readonly string[]): string[] => [...new Set([...x, ...y])];
  const goal = b.goal ?? a.goal;
  const successCheck = b.successCheck ?? a.successCheck;
  return {
    ...(goal ? { goal } : {}),
    nonGoals: join(a.nonGoals, b.nonGoals),
    constraints: join(a.constraints, b.constraints),
    pointers: join(a.pointers, b.pointers),
    priorDecisions: join(a.priorDecisions, b.priorDecisions),
    ...(successCheck ? { successCheck } : {}),
  };
}
