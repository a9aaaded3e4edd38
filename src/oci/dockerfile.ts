import { ValidationError } from "../errors.js";

/**
 * Reads a Dockerfile the way BuildKit's parser does (docs.docker.com/reference/dockerfile):
 * parser directives, `#` comment lines (also inside continuations), the escape character
 * (`\` or a backtick set by `# escape=`), instructions case-insensitive, global ARGs before
 * the first FROM. Pure: text in, instructions with their line numbers out.
 */
export interface Instruction {
  /** Upper case: FROM, COPY... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** The line the instruction starts on (1-based). */
  line: number;
}

export interface Stage {
  from: Instruction;
  /** The image or earlier stage the stage starts from, as written (before substitution). */
  base: string;
  name: string | undefined;
  /** `--platform=` as written. */
  platform: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  path: string;
  /** ARGs before the first FROM, in order (name and default). */
  globalArgs: { name: string; value: string | undefined }[];
  stages: Stage[];
}

/** The Dockerfile asks for something c8y-ms cannot do without an engine, or cannot be read. Exit 3. */
export class DockerfileError extends ValidationError {
  override readonly code = "DOCKERFILE_UNSUPPORTED";
}

export function parseDockerfile(text: string, path: string): Dockerfile {
  const instructions = splitInstructions(text, path);
  const globalArgs: Dockerfile["globalArgs"] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      stages.push({ from: instruction, ...parseFrom(instruction, path), instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    } else if (instruction.keyword === "ARG") {
      globalArgs.push(...parseArg(instruction, path));
    } else {
      throw new DockerfileError(`${path}:${instruction.line}: ${instruction.keyword} before the first FROM; only ARG may come first.`, { hint: "Start the Dockerfile with FROM (ARG lines for the base image may precede it)." });
    }
  }
  if (stages.length === 0) throw new DockerfileError(`${path} has no FROM instruction.`, { hint: "A Dockerfile starts from a base image: FROM <image>." });
  return { path, globalArgs, stages };
}

function splitInstructions(text: string, path: string): Instruction[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let escape = "\\";
  let inDirectives = true;
  const instructions: Instruction[] = [];
  let current: { line: number; text: string } | undefined;
  for (const [index, raw] of lines.entries()) {
    const trimmed = raw.trim();
    if (inDirectives) {
      const directive = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(trimmed);
      if (directive) {
        if (directive[1]!.toLowerCase() === "escape") escape = directive[2] === "`" ? "`" : "\\";
        continue;
      }
      inDirectives = false;
    }
    // Comment lines go, even in the middle of a continued instruction.
    if (trimmed.startsWith("#")) continue;
    if (trimmed === "" && !current) continue;
    const continues = trimmed.endsWith(escape) && !trimmed.endsWith(`${escape}${escape}`);
    const body = continues ? trimmed.slice(0, -1) : trimmed;
    if (current) current.text += ` ${body}`;
    else current = { line: index + 1, text: body };
    if (continues) continue;
    pushInstruction(instructions, current, path);
    current = undefined;
  }
  if (current) pushInstruction(instructions, current, path);
  return instructions;
}

function pushInstruction(into: Instruction[], { line, text }: { line: number; text: string }, path: string): void {
  const match = /^(\S+)\s*(.*)$/.exec(text.trim());
  if (!match) return;
  const args = match[2]!.trim();
  if (/<<-?\s*["']?[A-Za-z_]/.test(args) && /^(RUN|COPY|ADD)$/i.test(match[1]!)) {
    throw new DockerfileError(`${path}:${line}: here-documents (<<EOF) are not supported without a container engine.`, { hint: "Write the file into the build context and COPY it, or build with --engine docker." });
  }
  into.push({ keyword: match[1]!.toUpperCase(), args, line });
}

function parseFrom(instruction: Instruction, path: string): { base: string; name: string | undefined; platform: string | undefined } {
  const words = instruction.args.split(/\s+/).filter(Boolean);
  let platform: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    const [key, value] = splitFlag(flag);
    if (key !== "platform") throw new DockerfileError(`${path}:${instruction.line}: FROM ${flag} is not known.`, { hint: "FROM takes --platform=, an image and AS <name>." });
    platform = value;
  }
  const [base, as, name, ...rest] = words;
  if (!base || (as !== undefined && (as.toLowerCase() !== "as" || !name)) || rest.length > 0) {
    throw new DockerfileError(`${path}:${instruction.line}: FROM ${instruction.args} is not FROM <image> [AS <name>].`, { hint: "Write FROM <image>[:tag] [AS <stage>]." });
  }
  return { base, name: name?.toLowerCase(), platform };
}

export function parseArg(instruction: Instruction, path: string): { name: string; value: string | undefined }[] {
  return shellWords(instruction.args, instruction, path).map((word) => {
    const equals = word.indexOf("=");
    return equals < 0 ? { name: word, value: undefined } : { name: word.slice(0, equals), value: word.slice(equals + 1) };
  });
}

/** `--key=value` (or a bare `--key`). */
export function splitFlag(flag: string): [string, string | undefined] {
  const body = flag.slice(2);
  const equals = body.indexOf("=");
  return equals < 0 ? [body, undefined] : [body.slice(0, equals), body.slice(equals + 1)];
}

/**
 * Splits arguments into words as Docker does for ENV, LABEL, ARG and COPY: whitespace
 * separates, single and double quotes group (and are removed), a backslash escapes.
 */
export function shellWords(text: string, instruction: Pick<Instruction, "line" | "keyword">, path: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new DockerfileError(`${path}:${instruction.line}: ${instruction.keyword} has an unclosed ${quote} quote.`, { hint: "Close the quote." });
  if (inWord) words.push(word);
  return words;
}

/**
 * `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}` as Docker substitutes them
 * in FROM, ENV, LABEL, WORKDIR, COPY, EXPOSE and USER; `\$` keeps a literal dollar.
 */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    if (whole === "\\$") return "$";
    const name = braced ?? bare!;
    const value = vars.get(name);
    if (op === ":-") return value ? value : substitute(word ?? "", vars);
    if (op === ":+") return value ? substitute(word ?? "", vars) : "";
    return value ?? "";
  });
}

/** The JSON array of an exec-form CMD or ENTRYPOINT, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}
