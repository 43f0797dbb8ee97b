import { backendNamed } from "../backend/registry.js";
import { type ReadableOptions, readableTranscript } from "./readable.js";

/** `text` from a worker that `backend` ran, as people read it (see {@link readableTranscript}). */
export function readable(text: string, backend: string, options: ReadableOptions = {}): string {
  return readableTranscript(text, backendNamed(backend).parser(), options);
}
