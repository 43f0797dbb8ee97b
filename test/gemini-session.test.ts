import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { recordedAnswer, sessionFile } from "../dist/backend/gemini-session.js";

// The Gemini CLI resumes a session in the file it began, but first starts a record named after the
// current minute: a follow-up that starts in a later minute leaves a second file holding only the
// session's metadata. Baton reads the session's answer and usage from the file that holds them.

test("a resumed session is read from the file it began in, not from a later lone metadata record", () => {
  const home = mkdtempSync(join(tmpdir(), "baton-gemini-session-"));
  try {
    const thread = "abcdef12-3456-4789-8abc-def012345678";
    const chats = join(home, ".gemini", "tmp", "project", "chats");
    mkdirSync(chats, { recursive: true });
    const meta = JSON.stringify({ sessionId: thread, startTime: "2026-11-29T10:00:00.000Z" });
    const message = (text: string) =>
      JSON.stringify({ type: "gemini", content: text, tokens: { input: 10, output: 2 } });
    const began = join(chats, `session-2026-11-29T10-00-${thread.slice(0, 8)}.jsonl`);
    writeFileSync(began, [meta, message("first answer"), message("second answer"), ""].join("\n"));
    writeFileSync(join(chats, `session-2026-11-29T10-01-${thread.slice(0, 8)}.jsonl`), `${meta}\n`);

    assert.equal(sessionFile(home, thread), began);
    assert.equal(recordedAnswer(home, thread), "second answer");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
