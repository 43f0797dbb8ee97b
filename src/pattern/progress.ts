import { costText } from "../cost/cost.js";
import { agentText } from "../merge/render.js";
import { duration, tokens } from "../render/numbers.js";
import { textFor } from "../render/terminal-text.js";
import { totalTokens } from "../worker/types.js";
import type { RunEvent } from "./pattern-run.js";

/**
 * Shows a pattern run as it goes: one plain line per event. On a terminal, a line for a worker's end
 * is coloured by outcome; elsewhere the output stays plain for logs and agents. Labels, steps and notes
 * may carry a worker's or a model's text: on a terminal their control characters are shown, not acted on.
 */
export function progressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
  /** Where the lines go: `stream` itself unless a live view draws under them. */
  write: (text: string) => void = (text) => stream.write(text),
): (event: RunEvent) => void {
  const colour = stream.isTTY === true;
  const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const safe = (text: string) => textFor(stream, text);
  const started = Date.now();
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return (event) => {
    let line: string;
    switch (event.type) {
      case "step":
        line = paint(1, `▶ ${safe(event.step)}`);
        break;
      case "worker_started": {
        const on = event.agent?.backend ? ` on ${safe(agentText(event.agent))}` : "";
        line = `  ${event.id} ${safe(event.label)} started${on}`;
        break;
      }
      case "worker_ended": {
        const ok = event.result.state === "succeeded";
        const cost = event.result.cost ? `, ${costText(event.result.cost)}` : "";
        const used = `${tokens(totalTokens(event.result.usage))}${cost}`;
        line = `  ${event.id} ${safe(event.label)} ${paint(ok ? 32 : 31, event.result.state)} (${duration(event.result.durationMs)}, ${used})`;
        break;
      }
      case "note":
        line = paint(33, `  ! ${safe(event.text)}`);
        break;
    }
    write(`${clock()} ${line}\n`);
  };
}
