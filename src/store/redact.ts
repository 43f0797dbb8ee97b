import { dirname } from "node:path";
import { writeFileAtomicSync } from "./atomic.js";
import { inStoreSync, readStoreFileSync, StoreDamageError } from "./no-follow.js";

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE)/i;
const MIN_SECRET_LENGTH = 6;

/** The values of environment variables that look like secrets, longest first. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) {
      values.add(value);
      values.add(JSON.stringify(value).slice(1, -1)); // as it appears inside an agent's JSON output
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * Removes secrets from a stream of text chunks before they reach disk. It holds back only the end of
 * the text that could still grow into a secret, however long the pause before the next chunk, so a
 * secret split across two chunks is caught and nothing else is delayed.
 */
export class Redactor {
  private carry = "";

  constructor(private readonly secrets: readonly string[]) {}

  /** Returns the text that is safe to write now. */
  push(chunk: string): string {
    if (this.secrets.length === 0) return chunk;
    const text = redact(this.carry + chunk, this.secrets);
    const hold = this.unfinishedSecret(text);
    this.carry = text.slice(text.length - hold);
    return text.slice(0, text.length - hold);
  }

  /** Returns whatever is still held back: the stream has ended. */
  flush(): string {
    const rest = redact(this.carry, this.secrets);
    this.carry = "";
    return rest;
  }

  /** The length of the longest end of `text` that is the start of a secret. */
  private unfinishedSecret(text: string): number {
    let longest = 0;
    for (const secret of this.secrets) {
      for (let k = Math.min(secret.length - 1, text.length); k > longest; k--) {
        if (text.endsWith(secret.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, "[redacted]");
  return out;
}

/**
 * `value` as JSON with every secret in its strings redacted, and the value that JSON stands for:
 * `value` itself when it holds no secret (the usual case, one serialisation), else a redacted copy.
 * JSON escapes text character by character, so a secret inside a string shows in the JSON as its
 * escaped spelling, which {@link secretsOf} lists beside the secret itself.
 */
export function redactedJson<T>(
  value: T,
  secrets: readonly string[],
): { readonly json: string; readonly value: T } {
  const text = JSON.stringify(value);
  if (!secrets.some((secret) => text.includes(secret))) return { json: text, value };
  const json = JSON.stringify(JSON.parse(text), (_key, v: unknown) =>
    typeof v === "string" ? redact(v, secrets) : v,
  );
  return { json, value: JSON.parse(json) as T };
}

/**
 * Rewrites the file at `path` with its secrets redacted, if it holds any; a missing file is left
 * missing. The agent wrote it, so it is read and replaced without following a link planted in its
 * place (or in its folder, below `root`). Returns the damage found, if any, for the caller to report.
 */
export function redactFile(
  path: string,
  secrets: readonly string[],
  root = dirname(path),
): string | undefined {
  if (secrets.length === 0) return undefined;
  try {
    const text = readStoreFileSync(root, path);
    if (text === undefined) return undefined;
    const clean = redact(text, secrets);
    if (clean !== text) inStoreSync(root, path, (at) => writeFileAtomicSync(at, clean));
    return undefined;
  } catch (error) {
    return error instanceof StoreDamageError ? error.message : undefined;
  }
}
