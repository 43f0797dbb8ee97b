import type { OutputParser } from "../backend/backend.js";
import { type ReadableOptions, readableTranscript } from "./readable.js";

// Only the named backend's parser is loaded: `baton logs` and `poll` of a codex worker need neither
// the other backends nor the schema library the ACP parser reads its messages with.
const PARSERS: Readonly<Record<string, () => Promise<OutputParser>>> = {
  codex: async () => (await import("../backend/codex.js")).codexBackend.parser(),
  claude: async () => (await import("../backend/claude.js")).claudeBackend.parser(),
  gemini: async () => (await import("../backend/gemini.js")).geminiBackend.parser(),
  command: async () => (await import("../backend/command.js")).commandBackend.parser(),
};

/** The parser that reads the transcript of a worker `backend` ran. */
async function parserOf(backend: string): Promise<OutputParser> {
  const own = Object.hasOwn(PARSERS, backend) ? PARSERS[backend] : undefined;
  if (own) return own();
  const { backendNamed } = await import("../backend/registry.js");
  return backendNamed(backend).parser();
}

/** `text` from a worker that `backend` ran, as people read it (see {@link readableTranscript}). */
export async function readable(
  text: string,
  backend: string,
  options: ReadableOptions = {},
): Promise<string> {
  return readableTranscript(text, await parserOf(backend), options);
}
