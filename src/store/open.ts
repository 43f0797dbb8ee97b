import { constants } from "node:fs";
import { access, lstat, mkdir, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { DIR_MODE, FILE_MODE } from "./atomic.js";
import { claimHome } from "./home.js";
import { storeError } from "./store-error.js";

/**
 * Makes the store at `home` ready (creating it if needed): owner-only, a plain folder and never a link,
 * never a folder Baton did not make, and writable, a full disk included. Throws a one-line error.
 */
export async function prepareHome(home: string): Promise<void> {
  try {
    // Not `recursive: true`: Node's recursive mkdir never returns under /proc.
    await makeDir(home);
    // Checked before anything is made inside: through a symlink it would land somewhere else.
    for (const dir of [home, join(home, "workers")]) {
      if (dir !== home) await makeDir(dir);
      const info = await lstat(dir);
      if (info.isSymbolicLink() || !info.isDirectory()) {
        throw new BatonError(
          "store",
          `the run store ${dir} is not a plain folder: remove it or set BATON_HOME`,
        );
      }
      if (dir === home) await claimHome(home); // never take over (or chmod) a folder Baton did not make
    }
    await access(home, constants.W_OK);
    await access(join(home, "workers"), constants.W_OK);
    await probeWrite(join(home, "workers"));
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error);
  }
}

async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIR_MODE });
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return;
    if (errnoOf(error) === "ENOENT") {
      throw new BatonError("store", `cannot create the run store ${path}: its parent folder does not exist`);
    }
    throw error;
  }
}

/** Proves that files can be created and written in `dir`: a full disk passes every permission check. */
async function probeWrite(dir: string): Promise<void> {
  const path = join(dir, `.probe-${process.pid}`);
  await unlink(path).catch(() => {}); // left by a crash, or planted: never written through
  try {
    const handle = await open(path, PROBE, FILE_MODE);
    try {
      await handle.writeFile("probe\n");
    } finally {
      await handle.close();
    }
  } finally {
    await unlink(path).catch(() => {});
  }
}

const PROBE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
