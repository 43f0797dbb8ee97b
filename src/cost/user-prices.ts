import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { usageAt } from "../context/parsed.js";
import { plainData } from "../context/yaml.js";
import type { PriceTable } from "./prices.js";

// A user's own prices, which win over Baton's: `.baton/prices.yaml` for the workspace, `prices.yaml`
// in the user config folder ($XDG_CONFIG_HOME/baton, else ~/.config/baton) for every workspace.
//
//   source: our enterprise agreement      # optional: what a cost names as its source
//   date: 2026-09-01                      # optional
//   models:
//     gpt-5.5: { input: 4, cachedInput: 0.4, output: 24 }    # US dollars per million tokens
//     my-local-model: { input: 0, output: 0 }

export const PRICES_FILE = "prices.yaml";

const dollars = z.number().min(0, "must be 0 or more US dollars a million tokens").max(100_000);
const fileSchema = z.strictObject({
  source: z.string().max(500).optional(),
  date: z.union([z.string().max(40), z.date().transform((d) => d.toISOString().slice(0, 10))]).optional(),
  models: z.record(
    z.string().min(1).max(200),
    z.strictObject({ input: dollars, cachedInput: dollars.optional(), output: dollars }),
  ),
});

/** The user's price files that exist, workspace first: where a cost's price may come from. */
export function priceFiles(home: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return [join(home, PRICES_FILE), join(config, "baton", PRICES_FILE)];
}

/** Reads the price tables that exist; a table that is wrong is refused in one line naming the file. */
export async function loadUserPrices(files: readonly string[]): Promise<PriceTable[]> {
  const tables: PriceTable[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw usageAt(file, undefined, `cannot read it: ${(error as Error).message}`);
    }
    tables.push(parsePrices(text, file));
  }
  return tables;
}

export function parsePrices(text: string, file: string): PriceTable {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) throw usageAt(file, lines.linePos(syntax.pos[0]).line, `invalid YAML: ${syntax.message}`);
  const parsed = fileSchema.safeParse(plainData(doc, file) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `"${issue.path.join(".")}" ` : "";
    const range = issue ? doc.getIn(issue.path, true) : undefined;
    const line = (range as { range?: [number] } | undefined)?.range?.[0];
    const what =
      issue?.code === "unrecognized_keys"
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}: a price has input, cachedInput and output`
        : /received undefined/.test(issue?.message ?? "")
          ? `${where}is missing`
          : `${where}${issue?.message ?? "is not a price table"}`;
    throw usageAt(
      file,
      line === undefined ? undefined : lines.linePos(line).line,
      `${what} (see docs/backends.md § Dollars)`,
    );
  }
  const { source, date, models } = parsed.data;
  return {
    source: source ?? file,
    date: date ?? "",
    models: Object.entries(models).map(([model, price]) => ({ model, ...price })),
  };
}
