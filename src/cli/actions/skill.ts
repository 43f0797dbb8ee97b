import { homedir } from "node:os";
import { createInterface } from "node:readline/promises";
import { BatonError } from "../../errors.js";
import { AGENTS, type Agent, type InstallStep, installSkill } from "../../mcp/install/install.js";
import { printJson } from "../context.js";

const DONE: Record<InstallStep["action"], string> = {
  created: "created",
  added: "added",
  replaced: "replaced",
  unchanged: "already there",
};

/** `baton skill install`. */
export async function install(opts: {
  codex?: boolean;
  claude?: boolean;
  yes?: boolean;
  force?: boolean;
  json?: boolean;
}): Promise<void> {
  const agents: Agent[] = AGENTS.filter((agent) => opts[agent] === true);
  const steps = await installSkill({
    agents: agents.length ? agents : [...AGENTS],
    home: homedir(),
    confirm: opts.yes || opts.force ? async () => true : ask,
  });
  if (opts.json) return printJson({ steps });
  for (const step of steps) {
    process.stdout.write(`${step.agent}: ${DONE[step.action]} ${step.what} in ${step.path}\n`);
  }
  process.stdout.write("Restart the agent to load the skill and the baton MCP server.\n");
}

/** On a terminal, asks; anywhere else, refuses with how to go on. */
async function ask(step: InstallStep): Promise<boolean> {
  const question = `${step.path} already has ${step.what}, different from Baton's`;
  if (!process.stdin.isTTY) {
    throw new BatonError("usage", `${question}: run again with --yes to overwrite it`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question}. Overwrite it? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
