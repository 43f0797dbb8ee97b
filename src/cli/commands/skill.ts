import type { Command } from "commander";

// What install does is in ../actions/skill.ts, loaded only when it runs.

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
    .action(async (opts) => (await import("../actions/skill.js")).install(opts));
}
