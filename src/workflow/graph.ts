import { closest } from "../context/suggest.js";
import { type FieldPath, type Problem, pathText } from "./problem.js";

/** A step as the graph sees it: its id, and the steps it needs, each with where the file names it. */
export interface GraphStep {
  readonly id: string;
  /** Where the step is in the file, e.g. `["steps", 2]`. */
  readonly path: FieldPath;
  readonly needs: readonly { readonly id: string; readonly field: string; readonly index: number }[];
}

/** The first thing wrong with how the steps refer to each other: a repeated id, an unknown one, a cycle. */
export function graphProblem(steps: readonly GraphStep[]): Problem | undefined {
  const first = new Map<string, GraphStep>();
  for (const step of steps) {
    const earlier = first.get(step.id);
    if (earlier) {
      return {
        path: [...step.path, "id"],
        message: `duplicate step id "${step.id}": ${pathText(earlier.path)} has it already; give each step its own id`,
      };
    }
    first.set(step.id, step);
  }
  const ids = [...first.keys()];
  for (const step of steps) {
    for (const need of step.needs) {
      const field = [...step.path, need.field];
      const at = [...field, need.index];
      if (need.id === step.id)
        return { path: field, at, message: `step "${step.id}" cannot depend on itself` };
      if (!first.has(need.id)) {
        const guess = closest(need.id, ids);
        const hint = guess ? `did you mean "${guess}"?` : `the steps are ${ids.join(", ")}`;
        return { path: field, at, message: `unknown step "${need.id}": ${hint}` };
      }
    }
  }
  return cycleProblem(steps, first);
}

/** Steps in dependency levels: level 0 needs nothing, level n needs something from level n-1. File order within. */
export function levelsOf(steps: readonly GraphStep[]): string[][] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const level = new Map<string, number>();
  const depth = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const needs = byId.get(id)?.needs ?? [];
    const value = needs.length === 0 ? 0 : 1 + Math.max(...needs.map((need) => depth(need.id)));
    level.set(id, value);
    return value;
  };
  const levels: string[][] = [];
  for (const step of steps) {
    const level = depth(step.id);
    levels[level] = [...(levels[level] ?? []), step.id];
  }
  return levels;
}

// Depth-first search; a need that leads back to a step still on the path closes a cycle.
function cycleProblem(
  steps: readonly GraphStep[],
  byId: ReadonlyMap<string, GraphStep>,
): Problem | undefined {
  const done = new Set<string>();
  const path: GraphStep[] = [];
  const visit = (step: GraphStep): Problem | undefined => {
    path.push(step);
    for (const need of step.needs) {
      const onPath = path.findIndex((s) => s.id === need.id);
      if (onPath !== -1) {
        // Told from the step whose need closes it, so the message starts where the line points.
        const cycle = [step, ...path.slice(onPath)].map((s) => s.id);
        return {
          path: [...step.path, need.field],
          at: [...step.path, need.field, need.index],
          message: `a cycle: ${cycle.join(" → ")} (each step needs the next); break it by removing one of these`,
        };
      }
      const next = byId.get(need.id);
      if (next && !done.has(next.id)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    done.add(step.id);
    return undefined;
  };
  for (const step of steps) {
    if (done.has(step.id)) continue;
    const found = visit(step);
    if (found) return found;
  }
  return undefined;
}
