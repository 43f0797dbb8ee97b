import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import type { Command } from "commander";
import { buildProgram } from "../dist/cli/program.js";
import { batonTools } from "../dist/mcp/server.js";
import { BatonSession } from "../dist/mcp/session.js";
import { CLI, CODEX_BIN, printedBy, ROOT, type RunResult, runNode } from "./support/harness.ts";

// `baton skill install` against a temporary HOME, read back by the real codex CLI; and every command
// and tool call the skill shows, parsed by the real CLI parser and the real tool schemas.

const SKILL = join(ROOT, "skills/baton-orchestration/SKILL.md");
const skillText = readFileSync(SKILL, "utf8");

let home = "";
const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete e.CODEX_HOME;
  return e;
};
const install = (args: string[]) => runNode([CLI, "skill", "install", ...args], { env: env(), cwd: home });
const codexConfig = () => join(home, ".codex", "config.toml");
const claudeConfig = () => join(home, ".claude.json");

function codex(args: string[]): Promise<RunResult> {
  return new Promise((resolve) =>
    execFile(CODEX_BIN, args, { env: env() }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const CODEX_TABLE_QUESTION =
  /already has \[mcp_servers\.baton\], different from Baton's\. Overwrite it\? \[y\/N\]/;

/** Runs the installer in a real terminal, waits for this question, and answers it. */
async function installOnTerminal(
  args: string[],
  answer: string,
  question: RegExp = CODEX_TABLE_QUESTION,
): Promise<{ code: number; output: string }> {
  const terminal = pty.spawn(process.execPath, [CLI, "skill", "install", ...args], {
    cwd: home,
    env: env() as Record<string, string>,
    cols: 200,
    rows: 50,
  });
  const printed = printedBy(terminal);
  const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
  await printed.until(/\[y\/N\]/);
  assert.match(printed.text, question);
  terminal.write(`${answer}\r`);
  return { code: await exited, output: printed.text };
}

describe("baton skill install", () => {
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "baton-home-"));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  test("--codex: the skill in ~/.codex/skills and a server codex itself lists", async () => {
    const result = await install(["--codex"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /codex: created the baton-orchestration skill in .+SKILL\.md/);
    assert.equal(readFileSync(join(home, ".codex/skills/baton-orchestration/SKILL.md"), "utf8"), skillText);
    assert.equal(existsSync(join(home, ".claude")), false, "--codex leaves Claude Code alone");

    const listed = await codex(["mcp", "get", "baton", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const server = JSON.parse(listed.stdout.slice(listed.stdout.indexOf("{"))) as {
      enabled: boolean;
      transport: { command: string; args: string[]; env_vars: string[] };
      tool_timeout_sec: number;
    };
    assert.equal(server.enabled, true);
    assert.equal(server.transport.command, process.execPath);
    assert.deepEqual(server.transport.args, [CLI, "mcp"]);
    assert.ok(server.transport.env_vars.includes("OPENAI_API_KEY"), "the API key is forwarded by name");
    assert.equal(server.tool_timeout_sec, 660);
    const config = readFileSync(codexConfig(), "utf8");
    assert.match(config, /^default_tools_approval_mode = "approve"$/m);
    assert.doesNotMatch(config, /sk-|=\s*"[A-Za-z0-9]{32,}"/, "no key value is written");

    const again = await install(["--codex"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /codex: already there the baton-orchestration skill/);
    assert.match(again.stdout, /codex: already there \[mcp_servers\.baton\]/);
  });

  test("keeps the rest of an existing config.toml, and asks before replacing a different baton table", async () => {
    mkdirSync(join(home, ".codex"));
    const before = [
      "# my settings",
      'model = "o3"',
      "",
      "[mcp_servers.baton]",
      'command = "old-baton"',
      "",
      "[mcp_servers.baton.env]",
      'X = "1"',
      "",
      "# docs server",
      "[mcp_servers.docs]",
      'command = "docs-mcp"',
      "",
    ].join("\n");
    writeFileSync(codexConfig(), before);

    const refused = await install(["--codex"]);
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      `baton: ${codexConfig()} already has [mcp_servers.baton], different from Baton's: run again with --yes to overwrite it\n`,
    );
    assert.equal(readFileSync(codexConfig(), "utf8"), before, "nothing changed");
    assert.equal(existsSync(join(home, ".codex/skills")), false, "not even the skill");

    const declined = await installOnTerminal(["--codex"], "n");
    assert.notEqual(declined.code, 0);
    assert.equal(readFileSync(codexConfig(), "utf8"), before);

    const accepted = await installOnTerminal(["--codex"], "y");
    assert.equal(accepted.code, 0, accepted.output);
    const after = readFileSync(codexConfig(), "utf8");
    assert.match(after, /^# my settings\nmodel = "o3"\n\n\[mcp_servers\.baton\]\ncommand = /);
    assert.doesNotMatch(after, /old-baton|mcp_servers\.baton\.env/);
    assert.match(after, /\n# docs server\n\[mcp_servers\.docs\]\ncommand = "docs-mcp"\n$/);
    const docs = await codex(["mcp", "get", "docs", "--json"]);
    assert.equal(docs.code, 0, `codex still reads the file: ${docs.stderr}`);
  });

  test("asks before overwriting an installed SKILL.md the user edited, and refuses off a terminal without --yes", async () => {
    const installed = join(home, ".codex/skills/baton-orchestration/SKILL.md");
    assert.equal((await install(["--codex"])).code, 0);
    const edited = `${skillText}\n## My own notes\n\nAlways run the linter first.\n`;
    writeFileSync(installed, edited);
    const config = readFileSync(codexConfig(), "utf8");

    const refused = await install(["--codex"]);
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      `baton: ${installed} already has the baton-orchestration skill, different from Baton's: run again with --yes to overwrite it\n`,
    );
    assert.equal(readFileSync(installed, "utf8"), edited, "the user's edit is kept");

    const question =
      /SKILL\.md already has the baton-orchestration skill, different from Baton's\. Overwrite it\? \[y\/N\]/;
    const declined = await installOnTerminal(["--codex"], "n", question);
    assert.notEqual(declined.code, 0);
    assert.equal(readFileSync(installed, "utf8"), edited);

    const accepted = await installOnTerminal(["--codex"], "y", question);
    assert.equal(accepted.code, 0, accepted.output);
    assert.match(accepted.output, /codex: replaced the baton-orchestration skill in .+SKILL\.md/);
    assert.equal(readFileSync(installed, "utf8"), skillText);
    assert.equal(readFileSync(codexConfig(), "utf8"), config, "the config, already right, is untouched");

    const claudeSkill = join(home, ".claude/skills/baton-orchestration/SKILL.md");
    assert.equal((await install(["--claude"])).code, 0);
    writeFileSync(claudeSkill, edited);
    const claudeRefused = await install(["--claude"]);
    assert.equal(claudeRefused.code, 2);
    assert.match(
      claudeRefused.stderr,
      /\.claude\/skills\/baton-orchestration\/SKILL\.md already has the baton-orchestration skill/,
    );
    assert.equal(readFileSync(claudeSkill, "utf8"), edited);
  });

  test("--yes replaces without asking; a symlinked config stays a symlink", async () => {
    const dotfiles = join(home, "dotfiles");
    mkdirSync(dotfiles);
    mkdirSync(join(home, ".codex"));
    writeFileSync(join(dotfiles, "config.toml"), '[mcp_servers.baton]\ncommand = "old"\n');
    symlinkSync(join(dotfiles, "config.toml"), codexConfig());
    const result = await install(["--codex", "--yes"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /codex: replaced \[mcp_servers\.baton\]/);
    assert.ok(lstatSync(codexConfig()).isSymbolicLink());
    assert.match(readFileSync(join(dotfiles, "config.toml"), "utf8"), /default_tools_approval_mode/);
  });

  test("a baton server in a form it does not edit is refused with how to fix it", async () => {
    mkdirSync(join(home, ".codex"));
    writeFileSync(codexConfig(), '[mcp_servers]\nbaton = { command = "x" }\n');
    const result = await install(["--codex", "--yes"]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^baton: .+config\.toml defines mcp_servers\.baton in a form .+: replace it with a \[mcp_servers\.baton\] table or remove it, then run again\n$/,
    );
  });

  test("--claude: the skill in ~/.claude/skills and mcpServers.baton in ~/.claude.json, other keys kept", async () => {
    writeFileSync(
      claudeConfig(),
      JSON.stringify({ theme: "dark", mcpServers: { docs: { command: "docs" } } }),
    );
    const result = await install(["--claude"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(home, ".claude/skills/baton-orchestration/SKILL.md"), "utf8"), skillText);
    const config = JSON.parse(readFileSync(claudeConfig(), "utf8"));
    assert.equal(config.theme, "dark");
    assert.deepEqual(config.mcpServers.docs, { command: "docs" });
    assert.deepEqual(config.mcpServers.baton, {
      type: "stdio",
      command: process.execPath,
      args: [CLI, "mcp"],
      env: {},
    });
    assert.equal(existsSync(join(home, ".codex")), false, "--claude leaves Codex alone");

    writeFileSync(claudeConfig(), JSON.stringify({ mcpServers: { baton: { command: "other" } } }));
    const refused = await install(["--claude"]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /\.claude\.json already has mcpServers "baton", different from Baton's: run again with --yes/,
    );

    writeFileSync(claudeConfig(), "{ not json");
    const broken = await install(["--claude", "--yes"]);
    assert.equal(broken.code, 2);
    assert.match(
      broken.stderr,
      /^baton: .+\.claude\.json is not valid JSON \(.+\): fix it, or move it away, then run again\n$/,
    );
  });

  test("without a flag, installs for both agents", async () => {
    const result = await install([]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(join(home, ".codex/skills/baton-orchestration/SKILL.md")));
    assert.ok(existsSync(join(home, ".claude/skills/baton-orchestration/SKILL.md")));
    assert.match(readFileSync(codexConfig(), "utf8"), /\[mcp_servers\.baton\]/);
    assert.ok(JSON.parse(readFileSync(claudeConfig(), "utf8")).mcpServers.baton);
  });
});

describe("the skill's text", () => {
  test("has the frontmatter both agents read", () => {
    assert.match(skillText, /^---\nname: baton-orchestration\ndescription: .{40,1024}\n---\n/);
  });

  test("every baton command it shows parses", async () => {
    const lines = codeLines("sh");
    assert.ok(lines.length >= 15, "the skill shows commands");
    for (const line of lines) {
      assert.match(line, /^baton /, `a shell example is a baton command: ${line}`);
      const words = await shellWords(line);
      await assert.doesNotReject(parseOnly(words.slice(1)), `\`${line}\` parses`);
    }
  });

  test("every tool call it shows matches the tool's schema", () => {
    const tools = batonTools(new BatonSession({ home }), home, home, new AbortController().signal);
    const lines = codeLines("mcp");
    assert.ok(lines.length >= 10, "the skill shows tool calls");
    const used = new Set<string>();
    for (const line of lines) {
      const [, name, json] = /^([a-z_]+) (\{.*\})$/.exec(line) ?? [];
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool && json, `a tool call looks like: tool {json}: ${line}`);
      const parsed = tool.input.safeParse(JSON.parse(json));
      assert.ok(parsed.success, `${line}: ${parsed.error?.message}`);
      used.add(tool.name);
    }
    for (const name of [
      "spawn",
      "poll",
      "wait",
      "result",
      "list",
      "events",
      "stop",
      "plan_update",
      "plan_show",
      "run_pattern",
    ]) {
      assert.ok(used.has(name), `the skill shows ${name}`);
    }
  });
});

/** The lines of every fenced block in the skill with this language. */
function codeLines(language: string): string[] {
  const blocks = [...skillText.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))];
  return blocks.flatMap((b) => (b[1] ?? "").split("\n")).filter((l) => l.trim() !== "");
}

/** Parses argv with the real CLI parser (options, choices, number checks) without running anything. */
async function parseOnly(argv: readonly string[]): Promise<string> {
  const program = buildProgram();
  let ran = "";
  const stub = (command: Command) => {
    command.action(() => {
      ran = command.name();
    });
    command.commands.forEach(stub);
  };
  stub(program);
  await program.parseAsync([...argv], { from: "user" });
  assert.ok(ran, `${argv.join(" ")} reaches a command`);
  return ran;
}

/** Splits a command line into words the way the shell does. */
async function shellWords(line: string): Promise<string[]> {
  const result = await new Promise<string>((resolve, reject) =>
    execFile("bash", ["-c", 'eval "set -- $1"; printf "%s\\0" "$@"', "_", line], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  return result.split("\0").slice(0, -1);
}
