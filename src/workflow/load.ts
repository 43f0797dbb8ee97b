import { existsSync, statSync } from "node:fs";
import { basename, dirname, extname, relative, resolve, sep } from "node:path";
import { type ContextPack, loadContextPack } from "../context/index.js";
import { usageAt } from "../context/parsed.js";
import { readTextFile } from "../context/text-file.js";
import { missingPointer } from "./context.js";
import { type ParsedWorkflow, parseWorkflow, problemError } from "./parse.js";
import type { Problem } from "./problem.js";
import type { StepSpec } from "./schema.js";
import type { Workflow, WorkflowStep } from "./types.js";

export const WORKFLOW_FILE = /\.ya?ml$/i;

export interface LoadWorkflowOptions {
  /**
   * The workers' working directory, relative to the process's; replaces the file's `cwd`.
   * @default the file's `cwd`, relative to the file, else the file's folder
   */
  readonly cwd?: string;
  /** The named agents of the config, which a step's or the file's `backend:` may name. @default none */
  readonly agents?: readonly string[];
}

/**
 * Reads a workflow file (`.yaml` or `.yml`) and checks it whole before anything runs: its shape, its
 * steps, their dependencies, its cwd and its context pack. Errors are usage errors `file:line: ...`.
 */
export async function loadWorkflow(file: string, options: LoadWorkflowOptions = {}): Promise<Workflow> {
  if (!WORKFLOW_FILE.test(file)) throw usageAt(file, undefined, "a workflow file must end in .yaml or .yml");
  const text = await readTextFile(file, process.cwd(), "the workflow file");
  const parsed = parseWorkflow(text, file, options.agents);
  const folder = dirname(resolve(file));
  const cwd = workersCwd(parsed, folder, options.cwd);
  const outside = writeOutside(parsed, cwd);
  if (outside) throw problemError(parsed.source, [outside]);
  const context = await contextOf(parsed, folder, cwd);
  const { spec } = parsed;
  return {
    file,
    name: spec.name ?? basename(file, extname(file)),
    cwd,
    ...(context ? { context } : {}),
    ...(spec.backend ? { backend: spec.backend } : {}),
    ...(spec.model ? { model: spec.model } : {}),
    steps: spec.steps.map((step) => resolveStep(step, cwd)),
    levels: parsed.levels,
    result: spec.result ?? spec.steps.at(-1)!.id,
  };
}

function workersCwd(parsed: ParsedWorkflow, folder: string, override: string | undefined): string {
  const cwd = override === undefined ? resolve(folder, parsed.spec.cwd ?? ".") : resolve(override);
  if (isDirectory(cwd)) return cwd;
  if (override !== undefined)
    throw usageAt("--cwd", undefined, `${cwd} is not a folder: give an existing one`);
  throw problemError(parsed.source, [
    { path: ["cwd"], message: `${cwd} is not a folder: cwd is relative to the workflow file` },
  ]);
}

// A pack file is named relative to the workflow file, like `cwd`; its pointers are relative to the workers.
async function contextOf(
  parsed: ParsedWorkflow,
  folder: string,
  cwd: string,
): Promise<ContextPack | undefined> {
  const source = parsed.context;
  if (!source) return undefined;
  if (source.kind === "inline") {
    const missing = missingPointer(source, cwd);
    if (missing) throw problemError(parsed.source, [missing]);
    return source.pack;
  }
  const path = resolve(folder, source.file);
  if (!existsSync(path)) {
    throw problemError(parsed.source, [
      {
        path: ["context"],
        message: `${path} does not exist: the context file is relative to the workflow file`,
      },
    ]);
  }
  return loadContextPack(relative(cwd, path) || path, cwd);
}

/**
 * The first write path that leaves the workers' cwd (`../../x`, or an absolute path elsewhere). A
 * workflow file is data that may come from anywhere; what its workers may change stays inside its cwd.
 */
function writeOutside(parsed: ParsedWorkflow, cwd: string): Problem | undefined {
  for (const [index, step] of parsed.spec.steps.entries()) {
    for (const [position, path] of (step.write ?? []).entries()) {
      const target = resolve(cwd, path);
      if (target !== cwd && !target.startsWith(`${cwd}${sep}`)) {
        return {
          path: ["steps", index, "write"],
          at: ["steps", index, "write", position],
          message: `"${path}" is outside the workers' cwd ${cwd}: a workflow's workers write only inside it`,
        };
      }
    }
  }
  return undefined;
}

function resolveStep(step: StepSpec, cwd: string): WorkflowStep {
  const dependsOn = step.depends_on ?? [];
  const agent = {
    ...(step.backend ? { backend: step.backend } : {}),
    ...(step.model ? { model: step.model } : {}),
  };
  if (step.merge) {
    return {
      ...agent,
      kind: "merge",
      id: step.id,
      merge: step.merge,
      task: step.task ?? "Rank the merged findings and recommend what to do about them",
      dependsOn,
      needs: [...new Set([...step.merge, ...dependsOn])],
    };
  }
  // As `baton spawn` does: an implementer given no paths may change its working directory.
  const write = step.role === "implementer" ? (step.write ?? ["."]).map((path) => resolve(cwd, path)) : [];
  return {
    ...agent,
    kind: "worker",
    id: step.id,
    task: step.task!,
    ...(step.role ? { role: step.role } : {}),
    ...(step.lens ? { lens: step.lens } : {}),
    ...(step.for_each ? { forEach: step.for_each } : {}),
    structured: step.structured === true,
    write,
    dependsOn,
    needs: dependsOn,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
