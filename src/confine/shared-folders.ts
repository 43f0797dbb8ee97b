import type { GuardedFolder } from "./layout.js";

// Writers with file scopes in one folder run side by side (`--write src/a.ts`, `--write src/b.ts`):
// their scopes do not overlap. When one ends, its sweep moves out what it made beside its files, and
// must leave alone what the others may write: a file another one made in its scope is that one's work.

interface Holder {
  readonly allowed: readonly string[];
  /** The writers in a folder of this one's while it ran, itself included. */
  readonly met: Set<Holder>;
}

/** The writers now running in each guarded folder, by the folder's path. */
const running = new Map<string, Set<Holder>>();

/** One writer's place among those sharing its guarded folders; see {@link FolderShare.join}. */
export class FolderShare {
  private left = false;

  private constructor(
    private readonly holder: Holder,
    private readonly dirs: readonly string[],
  ) {}

  /** A writer about to start in `guarded`: it meets every writer running there, and they meet it. */
  static join(guarded: readonly GuardedFolder[]): FolderShare {
    const holder: Holder = { allowed: guarded.flatMap((g) => g.allowed), met: new Set() };
    holder.met.add(holder);
    const dirs = [...new Set(guarded.map((g) => g.dir))];
    for (const dir of dirs) {
      const here = running.get(dir) ?? new Set<Holder>();
      for (const other of here) {
        other.met.add(holder);
        holder.met.add(other);
      }
      here.add(holder);
      running.set(dir, here);
    }
    return new FolderShare(holder, dirs);
  }

  /** What the writers it met may write, its own scope included: its sweep moves none of it. */
  allowed(): string[] {
    return [...this.holder.met].flatMap((h) => h.allowed);
  }

  /** It has ended (once). */
  leave(): void {
    if (this.left) return;
    this.left = true;
    for (const dir of this.dirs) {
      const here = running.get(dir);
      here?.delete(this.holder);
      if (here?.size === 0) running.delete(dir);
    }
  }
}
