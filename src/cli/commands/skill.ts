import { homedir } from "node:os";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import { AGENTS, type Agent, type InstallStep, installSkill } from "../../mcp/install/install.js";
import { printJson } from "../context.js";

const DONE: Record<InstallStep["action"], string> = {
  created: "created",
  added: "added",
  replaced: "replaced",
  unchanged: "already there",
};

export function registerSkill(program: Command): void {
  const skill = program
    .command("skill")
    .description("the orchestration skill for agents (Codex, Claude Code)")
    .usage("install [--codex | --claude] [--yes]");
  skill
    .command("install")
    .description(
      "put the baton-orchestration skill where Codex and Claude Code look for skills, and register `baton mcp` in their MCP configuration",
    )
    .option(
      "--codex",
      "only Codex: $CODEX_HOME (default ~/.codex) skills/ and config.toml [mcp_servers.baton]",
    )
    .option("--claude", 'only Claude Code: ~/.claude/skills/ and ~/.claude.json mcpServers "baton"')
    .option("-y, --yes", "overwrite a different skill or server entry without asking")
    .option("--force", "the same as --yes")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Without --codex or --claude, installs for both. An existing file that differs is overwritten only
after you say yes (on a terminal) or with --yes; everything else in a config file is kept.`,
    )
    .action(async (opts) => {
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
    });
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
