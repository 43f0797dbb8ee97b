import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MAX_TEXT_FILE_BYTES } from "../context/text-file.js";
import { BatonError, errnoOf } from "../errors.js";
import { ROLES, type Role } from "../worker/types.js";
import { BUILT_IN_TEMPLATES } from "./templates.js";

/**
 * The template for `role`: the built-in one, or the contents of `overrideFile` (relative to `cwd`),
 * which must exist and must say where the task goes with `{{task}}`.
 */
export async function loadTemplate(
  role: Role,
  overrideFile?: string,
  cwd: string = process.cwd(),
): Promise<string> {
  if (overrideFile === undefined) return BUILT_IN_TEMPLATES[role];
  let template: string;
  try {
    // A device or a pipe could block or never end; a template is a small file.
    const info = await stat(resolve(cwd, overrideFile));
    if (!info.isFile() || info.size > MAX_TEXT_FILE_BYTES) {
      throw new BatonError(
        "usage",
        `${role} template ${overrideFile} is not a text file of at most 1 MiB: give a template file`,
      );
    }
    template = await readFile(resolve(cwd, overrideFile), "utf8");
  } catch (error) {
    if (error instanceof BatonError) throw error;
    const why =
      errnoOf(error) === "ENOENT" ? "does not exist" : `cannot be read (${errnoOf(error) ?? error})`;
    throw new BatonError("usage", `${role} template ${overrideFile} ${why}: fix the path or remove it`);
  }
  // Without it the task would silently vanish from the prompt.
  if (!/\{\{\s*task\s*\}\}/.test(template)) {
    throw new BatonError(
      "usage",
      `${role} template ${overrideFile} has no {{task}}: add it where the task goes`,
    );
  }
  return template;
}

/** The user's template files in `<home>/templates/<role>.md`, by role; roles without one are absent. */
export async function templateOverrides(home: string): Promise<Partial<Record<Role, string>>> {
  const folder = join(home, "templates");
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return {};
    throw new BatonError("store", `cannot read the template folder ${folder} (${errnoOf(error) ?? error})`);
  }
  const overrides: Partial<Record<Role, string>> = {};
  for (const role of ROLES) if (names.includes(`${role}.md`)) overrides[role] = join(folder, `${role}.md`);
  return overrides;
}
