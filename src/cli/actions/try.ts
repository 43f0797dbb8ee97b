import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { codexBackend } from "../../backend/codex.js";
import { findOnPath } from "../../backend/locate.js";
import { directiveScript } from "../../scripted-model/directives.js";
import { exampleOf, requestedSchema } from "../../scripted-model/schema-answer.js";
import { SCRIPTED_KEY_ENV, startScriptedModel, userMessagesOf } from "../../scripted-model/server.js";

/**
 * What the scripted model answers a worker whose prompt holds no script: it names the task (the
 * newest message's `TASK:` line; a follow-up, which has none, by its last line), in the form the
 * worker must answer in if it has one (a pattern's workers), else as a sentence.
 */
const answer = (body: Record<string, unknown>) => {
  const lines = (userMessagesOf(body).at(-1) ?? "").split("\n").filter((line) => line.trim());
  const task =
    lines
      .filter((line) => line.startsWith("TASK: "))
      .at(-1)
      ?.slice(6) ??
    lines.at(-1) ??
    "";
  const text = `Scripted answer (Baton's scripted model, no account): I got "${task.trim().slice(0, 80)}".`;
  const schema = requestedSchema(body);
  return schema === undefined ? text : JSON.stringify(exampleOf(schema, text));
};

/**
 * `baton try`: the scripted model in the foreground, a CODEX_HOME pointing at it in a temporary folder,
 * and the lines to paste into another terminal, serving until Ctrl+C. What the tests and the demo use,
 * offered to a person trying the commands by hand.
 */
export async function tryBaton(opts: { port?: number }): Promise<void> {
  const model = await startScriptedModel({
    script: directiveScript((request) => ({ type: "message", text: answer(request.body) })),
    ...(opts.port === undefined ? {} : { port: opts.port }),
  });
  const folder = await mkdtemp(join(tmpdir(), "baton-try-"));
  const codexHome = join(folder, "codex-home");
  await model.writeCodexHome(codexHome);
  const exports = [`CODEX_HOME=${codexHome}`, `${SCRIPTED_KEY_ENV}=try`];
  // Codex on PATH is used as it is; otherwise the one Baton's own install brought, if any.
  const codex = findOnPath("codex", process.env) ? undefined : bundledCodex();
  if (codex) exports.push(`BATON_CODEX_BIN=${codex}`);
  const lines = [
    `Baton's scripted model is serving at ${model.baseUrl} (this machine only; Ctrl+C stops it).`,
    "",
    ...(findOnPath("codex", process.env) || codex
      ? []
      : [
          "Baton runs the codex CLI, which is not installed here. First:",
          "  npm install -g @openai/codex",
          "",
        ]),
    "In another terminal, paste:",
    "",
    `  export ${exports.join(" ")}`,
    `  baton spawn --wait --label hello "Say hello"`,
    "",
    "Then try: baton ls (the hello worker is the last one; say its id is ID), baton logs ID,",
    '  baton spawn --continue ID "And again", baton run review "the parser" (a pattern: its',
    "  workers answer in their forms).",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await model.close();
  await rm(folder, { recursive: true, force: true });
  process.stderr.write(
    "baton: the scripted model stopped; the workspace's workers and store are as they were\n",
  );
}

/** The codex that came with Baton's own package (a checkout's devDependency), if any. */
function bundledCodex(): string | undefined {
  try {
    return codexBackend.locate({ env: { PATH: "" }, cwd: dirname(fileURLToPath(import.meta.url)) });
  } catch {
    return undefined;
  }
}
