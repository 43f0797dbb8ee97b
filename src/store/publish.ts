import { lstatSync, type Stats } from "node:fs";
import { rename } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic, writeOnce } from "./atomic.js";
import type { Ledger } from "./integrity.js";
import { damageError, inStore, inStoreFolder } from "./no-follow.js";
import { rewriteInPlace } from "./rewrite.js";
import { guarded } from "./store-error.js";

/** One file the supervisor vouches for, to be written into a worker's folder. */
export interface Publication {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly data: string;
  /**
   * "once": a link, never over an existing file; "replace": an atomic replace; "rewrite": the
   * supervisor's own file rewritten where it is when that is whole or not at all (see rewrite.ts),
   * else an atomic replace.
   */
  readonly how: "once" | "replace" | "rewrite";
  /** Flushed to disk, with its folder, before it counts as written. */
  readonly durable: boolean;
}

/**
 * Writes a file the supervisor vouches for, in the worker's folder reached without following links,
 * and records in `ledger` what the new file looks like, so that a later change to it shows as damage.
 * Returns false when a write-once file was the supervisor's own already (it is kept). One that someone
 * else put there first is moved aside as damage, and this one written.
 *
 * Whole or not at all against any crash of a process, always. Only a `durable` write (the result)
 * also survives a power loss: a spawn's files and a status are not flushed to disk one by one (that
 * was three flushes a spawn and one a status change); after a power loss they may be missing or
 * empty, which a read reports as missing or corrupt, never as another worker's or a half file.
 */
export function publish(home: string, ledger: Ledger, file: Publication): Promise<boolean> {
  return guarded(home, file.path, () => inStore(home, file.path, (at) => publishAt(home, ledger, file, at)));
}

/**
 * {@link publish} for several files of one worker's folder, in order, reaching the folder once. Stops
 * at the first that fails, with its error.
 */
export function publishAll(home: string, ledger: Ledger, files: readonly Publication[]): Promise<boolean[]> {
  const dir = dirname(files[0]?.path ?? home);
  const elsewhere = files.find((file) => dirname(file.path) !== dir);
  if (elsewhere) throw new Error(`publishAll: ${elsewhere.path} is not in ${dir}`);
  return guarded(home, dir, () =>
    inStoreFolder(home, dir, async (spell) => {
      const done: boolean[] = [];
      for (const file of files)
        done.push(await guarded(home, file.path, () => publishAt(home, ledger, file, spell(file.path))));
      return done;
    }),
  );
}

/** Writes `file` at `at`, its spelling through folders opened without following links. */
async function publishAt(home: string, ledger: Ledger, file: Publication, at: string): Promise<boolean> {
  const { id, name, path, data, how, durable } = file;
  const options = { durable, beforePublish: (written: Stats) => ledger.expect(path, written) };
  if (how !== "once") {
    ledger.check(id, name, path); // what is replaced is checked first: its damage stays reported
    const clean = how === "rewrite" && !ledger.damaged(id, name);
    const rewritten = clean ? rewriteInPlace(at, data, (found) => ledger.holds(path, found)) : undefined;
    if (rewritten) {
      settle(ledger, file, at, rewritten);
      return true;
    }
    settle(ledger, file, at, await writeFileAtomic(at, data, options));
    return true;
  }
  let written = await writeOnce(at, data, options);
  if (!written) {
    ledger.check(id, name, path);
    if (ledger.vouches(path) && !ledger.damaged(id, name)) return false; // the supervisor's own, written before
    // Not the supervisor's: kept aside for a person to look at, and the real one written.
    ledger.note(id, name, "was put there before Baton wrote it (kept aside as .damaged)");
    await rename(at, `${at}.damaged-${Date.now()}`);
    written = await writeOnce(at, data, options);
    if (!written) throw damageError(home, path, "keeps being replaced");
  }
  settle(ledger, file, at, written);
  return true;
}

/** Records what the supervisor just published at `at`; a different file there means someone raced it. */
function settle(ledger: Ledger, file: Publication, at: string, written: Stats): void {
  let found: Stats | undefined;
  try {
    found = lstatSync(at);
  } catch {}
  if (!ledger.settle(file.path, found, written))
    ledger.note(file.id, file.name, "was replaced while Baton wrote it");
}
