import { BatonError } from "../errors.js";

// `--cmd "my-agent --flag 'two words'"` and `--agent-cmd "gemini --acp"` become argv here, without
// a shell: Baton never hands a caller's line to `sh -c`. Quoting follows the shell's (single quotes
// keep everything, double quotes let `\` escape `"`, `\`, `$` and a backquote, a `\` outside quotes
// escapes the next character), so a line that works in a terminal splits the same way. What only a
// shell can do (pipes, redirections, variables, globs, `;`) is refused in one line that says so.

/** Characters that mean something only to a shell: outside quotes they are refused. */
const SHELL_ONLY = new Set(["|", "&", ";", "<", ">", "(", ")", "$", "`", "*", "?", "["]);
/** Characters that mean something to a shell at the start of a word only (a comment, a home). */
const SHELL_ONLY_FIRST = new Set(["#", "~"]);

/**
 * The words of `line`, as a POSIX shell would split it with no expansion. Throws a usage error
 * naming `flag` for an empty line, an unclosed quote, a trailing `\`, a NUL byte, or a character
 * that only a shell would act on (wrap the command in `sh -c '...'` to have one).
 */
export function splitCommandLine(line: string, flag = "--cmd"): string[] {
  const refuse = (why: string) => new BatonError("usage", `${flag} ${JSON.stringify(line)}: ${why}`);
  if (line.includes("\0")) throw refuse("contains a NUL byte");
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string))
        word += line[++i];
      else if (c === "$" || c === "`")
        throw refuse(
          `${c} inside double quotes is a shell expansion: Baton runs no shell; quote it with '...'`,
        );
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    const first = !inWord;
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === "\\") {
      if (i + 1 >= line.length) throw refuse("ends with a lone \\");
      word += line[++i];
    } else if (SHELL_ONLY.has(c) || (first && SHELL_ONLY_FIRST.has(c))) {
      throw refuse(
        `${c} means something only to a shell, and Baton runs the command without one: quote it ('${c}'), or run sh -c '...' yourself`,
      );
    } else word += c;
  }
  if (quote) throw refuse(`the ${quote} quote is never closed`);
  if (inWord) words.push(word);
  if (words.length === 0) throw refuse("give the program to run, and its arguments");
  return words;
}

/** The backends whose program is the caller's command line, and the flag each calls it by. */
const COMMAND_FLAGS: Readonly<Record<string, string>> = { command: "--cmd", acp: "--agent-cmd" };

/**
 * The program and arguments of a spawn's command line for `backend`: undefined when none was given;
 * refused for a backend that runs its own agent (codex, claude, gemini, an ACP preset).
 */
export function agentCommand(
  line: string | undefined,
  backend: string,
): { readonly program: string; readonly args: string[] } | undefined {
  if (line === undefined) return undefined;
  const flag = COMMAND_FLAGS[backend];
  if (!flag) {
    throw new BatonError(
      "usage",
      `--cmd and --agent-cmd are for --backend command and --backend acp: ${backend} runs its own agent (--bin PATH gives another binary of it)`,
    );
  }
  const [program = "", ...args] = splitCommandLine(line, flag);
  return { program, args };
}
