const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE)/i;
const MIN_SECRET_LENGTH = 6;

/** The values of environment variables that look like secrets, longest first. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * Removes secrets from a stream of text chunks before they reach disk. It holds back the last few
 * characters of each chunk, so that a secret split across two chunks is still caught.
 */
export class Redactor {
  private carry = "";
  private readonly hold: number;

  constructor(private readonly secrets: readonly string[]) {
    this.hold = Math.max(0, ...secrets.map((s) => s.length - 1));
  }

  /** Returns the text that is safe to write now. */
  push(chunk: string): string {
    if (this.secrets.length === 0) return chunk;
    const text = redact(this.carry + chunk, this.secrets);
    const cut = Math.max(0, text.length - this.hold);
    this.carry = text.slice(cut);
    return text.slice(0, cut);
  }

  /** Returns whatever is still held back. */
  flush(): string {
    const rest = redact(this.carry, this.secrets);
    this.carry = "";
    return rest;
  }
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, "[redacted]");
  return out;
}
