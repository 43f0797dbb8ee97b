import { lstatSync, type Stats } from "node:fs";
import { errnoOf } from "../errors.js";

// Results that cannot be forged. The supervisor remembers what each file it wrote (or read at start)
// looked like: device, inode, size, modification and change times. The change time cannot be set by
// anyone but the kernel, so a file edited, replaced, removed or swapped for a link no longer matches.
// Checking costs one lstat per file, never a re-read, so `ls` stays cheap.

/** A file of a worker that changed under the supervisor, and how. */
export interface StoreDamage {
  /** The file's name in the worker's folder, e.g. `result.json`. */
  readonly file: string;
  readonly what: string;
}

interface Mark {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  /** Absent while the file is being published: only its identity is known yet. */
  readonly mtimeMs?: number;
  readonly ctimeMs?: number;
}

const markOf = (stats: Stats, times = true): Mark => ({
  dev: stats.dev,
  ino: stats.ino,
  size: stats.size,
  ...(times ? { mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs } : {}),
});

function matches(mark: Mark | undefined, stats: Stats): boolean {
  if (!mark) return false;
  if (mark.dev !== stats.dev || mark.ino !== stats.ino || mark.size !== stats.size) return false;
  return mark.mtimeMs === undefined || (mark.mtimeMs === stats.mtimeMs && mark.ctimeMs === stats.ctimeMs);
}

/** What the supervisor knows of the files it wrote, and the damage found in them, by worker. */
export class Ledger {
  private readonly marks = new Map<string, { now?: Mark; next?: Mark }>();
  private readonly found = new Map<string, Map<string, string>>();

  /** `onNote`: told of each damage the first time it is found. */
  constructor(private readonly onNote?: (id: string, file: string, what: string) => void) {}

  /** `path` is about to take the content of the file `written` (a rename or link follows). */
  expect(path: string, written: Stats): void {
    const known = this.marks.get(path) ?? {};
    this.marks.set(path, { ...known, next: markOf(written, false) });
  }

  /**
   * `path` now holds what the supervisor wrote or read. `stats` is the entry found at `path` right
   * after; `written`, the file as the supervisor made it: if they differ, someone was quicker.
   */
  settle(path: string, stats: Stats | undefined, written?: Stats): boolean {
    const ours =
      stats !== undefined && (!written || (stats.ino === written.ino && stats.dev === written.dev));
    this.marks.set(path, ours && stats ? { now: markOf(stats) } : {});
    return ours;
  }

  /** Whether the supervisor knows what `path` holds (it wrote or read it). */
  vouches(path: string): boolean {
    return this.marks.get(path)?.now !== undefined;
  }

  /** Whether `stats` is the file the supervisor last wrote or read at `path`, unchanged since. */
  holds(path: string, stats: Stats): boolean {
    return matches(this.marks.get(path)?.now, stats);
  }

  /** Forgets `path`: the supervisor no longer vouches for it (a write of it failed). */
  forget(path: string): void {
    this.marks.delete(path);
  }

  /** Records damage to worker `id`'s `file`; it stays reported for the supervisor's life. */
  note(id: string, file: string, what: string): void {
    const files = this.found.get(id) ?? new Map<string, string>();
    this.found.set(id, files);
    if (files.has(file)) return;
    files.set(file, what);
    this.onNote?.(id, file, what);
  }

  /** Compares `path` with what the supervisor recorded; a difference is noted as damage to `id`'s `file`. */
  check(id: string, file: string, path: string): void {
    const known = this.marks.get(path);
    if (!known?.now && !known?.next) return;
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if (errnoOf(error) === "ENOENT" && known.now) this.note(id, file, "was removed outside Baton");
      return;
    }
    if (matches(known.now, stats)) return;
    if (matches(known.next, stats)) return; // being published right now
    this.note(
      id,
      file,
      stats.isSymbolicLink() ? "was replaced by a symbolic link" : "was changed outside Baton",
    );
  }

  /** Whether damage was noted to worker `id`'s `file`. */
  damaged(id: string, file: string): boolean {
    return this.found.get(id)?.has(file) ?? false;
  }

  /** The damage noted for worker `id`, in the order found. */
  damage(id: string): StoreDamage[] {
    return [...(this.found.get(id) ?? [])].map(([file, what]) => ({ file, what }));
  }
}

/** The damage a worker's info carries (the `damage` field of `ls --json`); none if it has no such field. */
export function damageOf(info: object): readonly StoreDamage[] {
  const damage = (info as { damage?: unknown }).damage;
  if (!Array.isArray(damage)) return [];
  return damage.filter(
    (d): d is StoreDamage =>
      typeof d === "object" && d !== null && typeof d.file === "string" && typeof d.what === "string",
  );
}
