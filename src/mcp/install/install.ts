import { mkdir, readFile, realpath } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BatonError, errnoOf } from "../../errors.js";
import { DIR_MODE, writeFileAtomic } from "../../store/atomic.js";
import { claudeServerEntry, withServerEntry } from "./claude-config.js";
import { codexServerTable, type TableEdit, withServerTable } from "./codex-config.js";
import { batonServerCommand, type ServerCommand, SKILL_NAME, SKILL_SOURCE } from "./server-command.js";

export const AGENTS = ["codex", "claude"] as const;
export type Agent = (typeof AGENTS)[number];

export interface InstallOptions {
  readonly agents: readonly Agent[];
  /** The user's home folder. @default os.homedir() via HOME */
  readonly home: string;
  /** For CODEX_HOME. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Asked once per file that holds something different from what would be written; false stops. */
  readonly confirm: (step: InstallStep) => Promise<boolean>;
  /** @default this Node and this CLI */
  readonly server?: ServerCommand;
}

/** One file the install wrote, or found already right. */
export interface InstallStep {
  readonly agent: Agent;
  readonly path: string;
  readonly what: string;
  readonly action: "created" | "added" | "replaced" | "unchanged";
}

interface Planned extends InstallStep {
  readonly text: string;
}

/**
 * Installs the orchestration skill where each agent looks for skills, and registers `baton mcp` in
 * its configuration. Nothing is written until every file is planned and every overwrite confirmed.
 */
export async function installSkill(options: InstallOptions): Promise<InstallStep[]> {
  const skill = await readFile(SKILL_SOURCE, "utf8");
  const server = options.server ?? batonServerCommand();
  const planned: Planned[] = [];
  for (const agent of options.agents) {
    const paths = agentPaths(agent, options.home, options.env ?? process.env);
    const skillNow = await readIfAny(paths.skill);
    planned.push({
      agent,
      path: paths.skill,
      what: `the ${SKILL_NAME} skill`,
      text: skill,
      action: skillNow === undefined ? "created" : skillNow === skill ? "unchanged" : "replaced",
    });
    const configNow = await readIfAny(paths.config);
    const edit: TableEdit =
      agent === "codex"
        ? withServerTable(configNow ?? "", codexServerTable(server), paths.config)
        : withServerEntry(configNow ?? "", claudeServerEntry(server), paths.config);
    planned.push({
      agent,
      path: paths.config,
      what: agent === "codex" ? "[mcp_servers.baton]" : 'mcpServers "baton"',
      text: edit.text,
      action: edit.unchanged
        ? "unchanged"
        : edit.replaced
          ? "replaced"
          : configNow === undefined
            ? "created"
            : "added",
    });
  }
  for (const step of planned.filter((p) => p.action === "replaced")) {
    if (!(await options.confirm(step))) {
      throw new BatonError("usage", `left ${step.path} as it was, and wrote nothing`);
    }
  }
  for (const step of planned.filter((p) => p.action !== "unchanged"))
    await writeKeepingLinks(step.path, step.text);
  return planned.map(({ text: _, ...step }) => step);
}

/** Where an agent looks for skills, and its MCP configuration. */
export function agentPaths(
  agent: Agent,
  home: string,
  env: NodeJS.ProcessEnv,
): { skill: string; config: string } {
  if (agent === "codex") {
    const codexHome = env.CODEX_HOME || join(home, ".codex");
    return {
      skill: join(codexHome, "skills", SKILL_NAME, "SKILL.md"),
      config: join(codexHome, "config.toml"),
    };
  }
  return {
    skill: join(home, ".claude", "skills", SKILL_NAME, "SKILL.md"),
    config: join(home, ".claude.json"),
  };
}

async function readIfAny(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw new BatonError(
      "store",
      `cannot read ${path} (${errnoOf(error) ?? String(error)}): check its permissions`,
    );
  }
}

/** Writes whole or not at all; a config kept as a symlink (dotfiles) stays one, and its target changes. */
async function writeKeepingLinks(path: string, text: string): Promise<void> {
  let target = path;
  try {
    target = await realpath(path);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
  try {
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    await writeFileAtomic(target, text);
  } catch (error) {
    throw new BatonError(
      "store",
      `cannot write ${target} (${errnoOf(error) ?? String(error)}): check its permissions`,
    );
  }
}
