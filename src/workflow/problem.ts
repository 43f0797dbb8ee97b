/** Where in a workflow file something is: keys and list indexes from the top, as zod reports them. */
export type FieldPath = readonly (string | number)[];

/**
 * One thing wrong with a workflow file. `path` is the field the message is about; `at`, when given, is
 * a more exact place for the line (the list item that names an unknown step, say).
 */
export interface Problem {
  readonly path: FieldPath;
  readonly message: string;
  readonly at?: FieldPath;
  /**
   * A required field that is absent. It has no line of its own, and is often the other half of a typo
   * (`stpes:` for `steps:`), so any other problem is reported before it.
   */
  readonly missing?: boolean;
}

/** `["steps", 2, "depends_on"]` as `steps[2].depends_on`, the way a reader finds it in the file. */
export function pathText(path: FieldPath): string {
  let text = "";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : text === "" ? key : `.${key}`;
  return text;
}

export const isProblem = (value: object): value is Problem => "path" in value && "message" in value;
