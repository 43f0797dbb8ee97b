import { Box, Text, useInput } from "ink";
import { createElement as h, type ReactElement, useEffect, useState } from "react";
import { wrapped } from "./dashboard.js";

// A worker's transcript or result in `baton top`: scrollable, following the end while it grows.

export interface PagerProps {
  readonly title: string;
  /** Undefined while loading. */
  readonly text: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly colour: boolean;
  onClose(): void;
}

export function Pager(props: PagerProps): ReactElement {
  const body = Math.max(1, props.height - 2);
  const lines = props.text === undefined ? ["loading..."] : wrapped(props.text, props.width);
  const last = Math.max(0, lines.length - body);
  // Undefined: pinned to the end, so a growing transcript keeps its newest lines in sight.
  const [top, setTop] = useState<number | undefined>(undefined);
  const first = top === undefined ? last : Math.min(top, last);
  useEffect(() => {
    if (top !== undefined && top >= last) setTop(undefined);
  }, [top, last]);

  useInput((input, key) => {
    const to = (line: number) => setTop(line >= last ? undefined : Math.max(0, line));
    if (key.escape || input === "q" || key.leftArrow) props.onClose();
    else if (key.upArrow || input === "k") to(first - 1);
    else if (key.downArrow || input === "j") to(first + 1);
    else if (key.pageUp || input === "b") to(first - body);
    else if (key.pageDown || input === " " || input === "f") to(first + body);
    else if (input === "g" || key.home) to(0);
    else if (input === "G" || key.end) to(last);
  });

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
