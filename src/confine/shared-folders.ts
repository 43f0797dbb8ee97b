import { lstatSync, mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { writeRoots } from "./paths.js";

// Writers of different files in one folder run side by side (`--write src/a.ts`, `--write src/b.ts`:
// their scopes do not overlap). Two things in such a folder belong to all of them, not to one:
// - when one ends, its sweep moves out what it made beside its files, and must leave alone what the
//   others may write: a file another one made in its own scope is that one's work;
// - codex's own sandbox mounts over `.git`, `.codex`, `.agents` and `.aws` in each folder it may
//   write, making an empty folder on the host for each one missing, and may remove the ones it made
//   when its command ends. Removed while another agent runs there, one is unmounted in that agent's
//   sandbox too, and the `.git` it protected becomes writable. So Baton makes them before such an
//   agent starts (its agent then makes and removes none), and removes them when the last writer in
//   the folder has ended; left behind, they would litter the user's tree, and an empty `.git` looks
//   like a repository to tools that only check the name.

/** The names an agent's own sandbox mounts over in each folder it may write. */
const MOUNT_POINTS = [".git", ".codex", ".agents", ".aws"] as const;

/** True for a name an agent's own sandbox mounts over. */
export function isMountPoint(name: string): boolean {
  return (MOUNT_POINTS as readonly string[]).includes(name);
}

interface Holder {
  readonly allowed: readonly string[];
  /** The writers in a folder of this one's while it ran, itself included. */
  readonly met: Set<Holder>;
}

interface SharedFolder {
  readonly holders: Set<Holder>;
  /** The mount points Baton made here, removed once its last writer has ended. */
  readonly made: Set<string>;
}

/** The folders writers of this process now run in, by path. */
const folders = new Map<string, SharedFolder>();

/** One writer's place among those sharing the folders it may write. */
export class FolderShare {
  private left = false;

  private constructor(
    private readonly holder: Holder,
    private readonly dirs: readonly string[],
  ) {}

  /**
   * A writer about to start with `scope`: it meets every writer running in its folders. With
   * `mountPoints` (its agent's sandbox mounts over them), the ones missing there are made now.
   */
  static join(scope: readonly string[], options: { readonly mountPoints: boolean }): FolderShare {
    const holder: Holder = { allowed: [...scope], met: new Set() };
    holder.met.add(holder);
    const dirs = writeRoots(scope);
    for (const dir of dirs) {
      let folder = folders.get(dir);
      if (!folder) {
        folder = { holders: new Set(), made: new Set() };
        folders.set(dir, folder);
      }
      for (const other of folder.holders) {
        other.met.add(holder);
        holder.met.add(other);
      }
      folder.holders.add(holder);
      if (options.mountPoints)
        for (const name of MOUNT_POINTS) if (make(join(dir, name))) folder.made.add(name);
    }
    return new FolderShare(holder, dirs);
  }

  /** What the writers it met may write, its own scope included: its sweep moves none of it. */
  allowed(): string[] {
    return [...this.holder.met].flatMap((h) => h.allowed);
  }

  /**
   * It has ended (once): in each folder no other writer still runs in, the mount points Baton made
   * there are removed if they are still empty folders. Never follows a link. Returns what was removed.
   */
  leave(): string[] {
    if (this.left) return [];
    this.left = true;
    const removed: string[] = [];
    for (const dir of this.dirs) {
      const folder = folders.get(dir);
      if (!folder) continue;
      folder.holders.delete(this.holder);
      if (folder.holders.size > 0) continue;
      folders.delete(dir);
      for (const name of folder.made) {
        const path = join(dir, name);
        try {
          if (!lstatSync(path).isDirectory()) continue;
          rmdirSync(path); // only if empty
          removed.push(path);
        } catch {} // not there, not empty, or gone: left as it is
      }
    }
    return removed;
  }
}

/** Makes the empty folder `path` unless anything is there; true if this made it. */
function make(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch {
    return false; // there already (a folder, a file, a link), or the folder cannot be written
  }
}
