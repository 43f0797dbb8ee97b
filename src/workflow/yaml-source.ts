import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { usageAt } from "../context/parsed.js";
import { plainData } from "../context/yaml.js";
import type { FieldPath } from "./problem.js";

/** A workflow file's YAML: its data, and the line of any field in it, so that every error can point there. */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly root: unknown,
    private readonly lines: LineCounter,
    readonly data: unknown,
  ) {}

  /** Parses `source`; invalid YAML is a usage error at the line where the parser gave up. */
  static parse(source: string, file: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
    const syntax = doc.errors[0];
    if (syntax) {
      const message = syntax.message.split("\n")[0]?.trim();
      throw usageAt(file, lines.linePos(syntax.pos[0]).line, `invalid YAML: ${message}`);
    }
    return new YamlSource(file, doc.contents, lines, plainData(doc, file));
  }

  /**
   * The line of the field at `path`: a key's line for a mapping entry, an item's line for a list item.
   * Where the path leaves the file (a missing field), the line of the deepest part that is there.
   */
  lineOf(path: FieldPath): number | undefined {
    let node: unknown = this.root;
    let line = this.lineOfNode(node);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        line = this.lineOfNode(pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number") {
        node = node.items[key];
        if (node === undefined) break;
        line = this.lineOfNode(node) ?? line;
      } else break;
    }
    return line;
  }

  private lineOfNode(node: unknown): number | undefined {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }
}
