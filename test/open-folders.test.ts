import assert from "node:assert/strict";
import {
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  appendStoreFileSync,
  inStore,
  readStoreFileSync,
  StoreDamageError,
} from "../dist/store/no-follow.js";
import { holdFolder, releaseFolders } from "../dist/store/open-folders.js";

// The store's folders, reached without following links, stay open between uses while their path still
// leads to them (src/store/open-folders.ts). What is planted since must be seen as before.

/** This process's descriptors open on a folder under `root`. */
const openUnder = (root: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
    } catch {
      return false;
    }
  }).length;

describe("store folders kept open", () => {
  let root: string;
  before(() => {
    root = join(realpathSync(mkdtempSync(join(tmpdir(), "baton-folders-"))), ".baton");
    mkdirSync(join(root, "workers", "w1"), { recursive: true });
  });
  after(() => {
    releaseFolders();
    rmSync(join(root, ".."), { recursive: true, force: true });
  });

  test("a folder is opened once and used again while its path leads to it", () => {
    const dir = join(root, "workers", "w1");
    let opened = 0;
    const open = () => {
      opened++;
      return openFolderFd(dir);
    };
    const first = holdFolder(dir, open);
    first.release();
    const second = holdFolder(dir, open);
    assert.equal(second.fd, first.fd);
    second.release();
    assert.equal(opened, 1);

    // Moved away and made again at the same path: a new folder, opened anew.
    renameSync(dir, `${dir}-old`);
    mkdirSync(dir);
    const third = holdFolder(dir, open);
    assert.equal(opened, 2, "the path leads elsewhere now");
    third.release();
    releaseFolders();
    rmSync(`${dir}-old`, { recursive: true });
  });

  test("a folder swapped for a link after it was used is reported, and nothing is written through the link", () => {
    const file = join(root, "workers", "w1", "transcript.log");
    appendStoreFileSync(root, file, "one\n");
    const elsewhere = join(root, "..", "elsewhere");
    mkdirSync(elsewhere);
    renameSync(join(root, "workers", "w1"), join(root, "workers", "w1-moved"));
    symlinkSync(elsewhere, join(root, "workers", "w1"));
    assert.throws(
      () => appendStoreFileSync(root, file, "two\n"),
      (error) => error instanceof StoreDamageError && /symbolic link/.test(error.message),
    );
    assert.deepEqual(readdirSync(elsewhere), [], "nothing reached the link's target");
    assert.equal(readFileSync(join(root, "workers", "w1-moved", "transcript.log"), "utf8"), "one\n");
    rmSync(join(root, "workers", "w1"));
    renameSync(join(root, "workers", "w1-moved"), join(root, "workers", "w1"));
    assert.equal(readStoreFileSync(root, file), "one\n", "the folder is found again once it is back");
  });

  test("a store removed under it is missing, not read from the folders still open", () => {
    const other = join(root, "..", "gone", ".baton");
    mkdirSync(join(other, "workers", "w2"), { recursive: true });
    const file = join(other, "workers", "w2", "status.json");
    writeFileSync(file, "{}");
    assert.equal(readStoreFileSync(other, file), "{}");
    rmSync(join(root, "..", "gone"), { recursive: true });
    assert.equal(readStoreFileSync(other, file), undefined);
  });

  test("at most 128 stay open; one still in use when pushed out is closed only when its use ends", async () => {
    releaseFolders();
    for (let i = 1; i <= 200; i++) mkdirSync(join(root, "many", `w${i}`), { recursive: true });
    const file = (i: number) => join(root, "many", `w${i}`, "x.txt");
    let release: () => void = () => {};
    // Written through its folder only after 199 others have pushed that folder out of the cache.
    const inUse = inStore(root, file(1), async (at) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      writeFileSync(at, "first");
    });
    for (let i = 2; i <= 200; i++) appendStoreFileSync(root, file(i), `${i}`);
    assert.ok(openUnder(join(root, "many")) <= 129, `${openUnder(join(root, "many"))} folders open`);
    release();
    await inUse;
    assert.equal(readFileSync(file(1), "utf8"), "first");
    assert.equal(readFileSync(file(200), "utf8"), "200");
    releaseFolders();
    assert.equal(openUnder(join(root, "many")), 0, "every folder is closed once released");
  });
});

/** Opens `dir` as a folder, as the store does (here without the walk from the root). */
function openFolderFd(dir: string): number {
  return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
}
