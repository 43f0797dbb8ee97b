/** A line longer than this is dropped rather than held: no agent event is that long. */
const MAX_LINE = 64 * 1024 * 1024;

/**
 * An agent's output as whole lines, the terminal's CR LF taken for LF: text comes in pieces as the
 * pseudo-terminal gives it, a line is handed on once its end has come.
 */
export class AgentLines {
  private pending = "";

  /** The lines that `data` completes. */
  push(data: string): string[] {
    const lines = (this.pending + data).split("\n");
    this.pending = lines.pop() ?? "";
    if (this.pending.length > MAX_LINE) this.pending = "";
    return lines.map(withoutCr);
  }

  /** What is left once the agent has ended: its last line, if it had no end. */
  end(): string | undefined {
    const last = this.pending;
    this.pending = "";
    return last ? withoutCr(last) : undefined;
  }
}

const withoutCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);
