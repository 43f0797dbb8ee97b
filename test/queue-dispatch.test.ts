import assert from "node:assert/strict";
import { test } from "node:test";
import { splitCommandLine } from "../src/backend/argv.js";
import { commandLine } from "../src/queue/dispatch.js";

// A command or acp worker's program goes to its host as a command line, split there again.
test("a worker's program and arguments reach a host as the same words", () => {
  const argvs = [
    [
      "/opt/agents/my agent",
      "--flag",
      "two words",
      "it's",
      "",
      "$HOME",
      "*.ts",
      "a;b",
      "#x",
      "~/y",
      'q"q',
      "a\\b",
    ],
    ["./review.sh"],
    ["/usr/bin/env", "FOO=1", "node", "-e", "console.log('hi')"],
  ];
  for (const argv of argvs) assert.deepEqual(splitCommandLine(commandLine(argv)), argv, commandLine(argv));
});
