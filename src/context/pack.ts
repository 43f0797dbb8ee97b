import { z } from "zod";

/**
 * What a worker cannot infer on its own: the orchestration guide's Context Pack.
 * Every field is optional, but a pack has at least one that is not empty.
 */
export interface ContextPack {
  /** What "good" looks like. */
  readonly goal?: string;
  /** What not to do. */
  readonly nonGoals: readonly string[];
  /** Style, scope boundaries, what must stay and what must not change. */
  readonly constraints: readonly string[];
  /** Key files, folders, documents and links; paths are checked to exist. */
  readonly pointers: readonly string[];
  /** Why things are the way they are. */
  readonly priorDecisions: readonly string[];
  /** How we know the work is done: tests, criteria, a checklist. */
  readonly successCheck?: string;
}

export const isEmptyContextPack = (pack: ContextPack): boolean =>
  !pack.goal &&
  !pack.successCheck &&
  pack.nonGoals.length === 0 &&
  pack.constraints.length === 0 &&
  pack.pointers.length === 0 &&
  pack.priorDecisions.length === 0;

/** The first field holding a NUL byte (a YAML "\\0" escape), which no prompt may carry. */
export function fieldWithNul(pack: ContextPack): keyof ContextPack | undefined {
  const fields = Object.entries(pack) as [keyof ContextPack, string | readonly string[]][];
  return fields.find(([, value]) =>
    (typeof value === "string" ? [value] : value).some((v) => v.includes("\0")),
  )?.[0];
}

// For packs that come back from outside after they were built (spec files, MCP or socket requests).
export const contextPackSchema: z.ZodType<ContextPack> = z
  .strictObject({
    goal: z.string().min(1).optional(),
    nonGoals: z.array(z.string().min(1)),
    constraints: z.array(z.string().min(1)),
    pointers: z.array(z.string().min(1)),
    priorDecisions: z.array(z.string().min(1)),
    successCheck: z.string().min(1).optional(),
  })
  .refine((pack) => !isEmptyContextPack(pack), "a context pack needs at least one field that is not empty");
