import { Box, type Key, Text } from "ink";
import { createElement as h, type ReactElement } from "react";
import { wrapped } from "./dashboard.js";

// A worker's transcript or result in `baton top`: scrollable, following the end while it grows. The
// app owns the position and the keys (one input handler for the whole screen, so that no key typed
// while the view changes goes to the view that just closed).

/** Where the pager is: its first line, or undefined to stay at the end as the text grows. */
export type PagerTop = number | undefined;

export interface PagerProps {
  readonly title: string;
  /** Undefined while loading. */
  readonly text: string | undefined;
  readonly top: PagerTop;
  readonly width: number;
  readonly height: number;
  readonly colour: boolean;
}

/** The lines and the first one in sight. */
function layout(props: Pick<PagerProps, "text" | "top" | "width" | "height">) {
  const body = Math.max(1, props.height - 2);
  const lines = props.text === undefined ? ["loading..."] : wrapped(props.text, props.width);
  const last = Math.max(0, lines.length - body);
  const first = props.top === undefined ? last : Math.min(props.top, last);
  return { body, lines, last, first };
}

/** What a key does in the pager: close it, or move it (undefined: to the end, and follow it). */
export function pagerKey(
  input: string,
  key: Key,
  props: Pick<PagerProps, "text" | "top" | "width" | "height">,
): { close: true } | { top: PagerTop } | undefined {
  const { body, last, first } = layout(props);
  const to = (line: number) => ({ top: line >= last ? undefined : Math.max(0, line) });
  if (key.escape || input === "q" || key.leftArrow) return { close: true };
  if (key.upArrow || input === "k") return to(first - 1);
  if (key.downArrow || input === "j") return to(first + 1);
  if (key.pageUp || input === "b") return to(first - body);
  if (key.pageDown || input === " " || input === "f") return to(first + body);
  if (input === "g" || key.home) return to(0);
  if (input === "G" || key.end) return to(last);
  return undefined;
}

export function Pager(props: PagerProps): ReactElement {
  const { body, lines, first } = layout(props);
  const position = lines.length > body ? ` (lines ${first + 1}-${first + body} of ${lines.length})` : "";
  return h(
    Box,
    { flexDirection: "column" },
    h(Text, { bold: props.colour, wrap: "truncate-end" }, `${props.title}${position}`),
    ...lines
      .slice(first, first + body)
      .map((line, i) => h(Text, { key: i, wrap: "truncate-end" }, line || " ")),
    h(Text, { dimColor: props.colour, wrap: "truncate-end" }, "up/down PgUp/PgDn g/G scroll  esc or q back"),
  );
}
