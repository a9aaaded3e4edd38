import { MAX_NESTING } from "./limits.js";
import { LineIndex, pointerOf, type Locations, type ReadResult, type SourceDocument, type Span } from "./source.js";


class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A strict RFC 8259 reader that remembers where every value and key was written. JSON.parse
 * cannot: it gives no positions for values and only a character offset for syntax errors.
 * The first syntax error ends reading, with a message that says how to fix it.
 */
export function readJson(text: string): ReadResult {
  const reader = new JsonReader(text);
  try {
    return { ok: true, document: reader.read() };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { ok: false, problem: { offset: error.offset, message: error.message } };
    throw error;
  }
}

interface Container {
  open: string;
  offset: number;
}

class JsonReader {
  readonly #text: string;
  #at = 0;
  #lines: LineIndex | undefined;
  readonly #locations: Locations = new Map();
  readonly #duplicates: SourceDocument["duplicateKeys"] = [];
  readonly #open: Container[] = [];

  constructor(text: string) {
    this.#text = text;
  }

  read(): SourceDocument {
    if (this.#text.charCodeAt(0) === 0xfeff) this.#at = 1;
    this.#skipWhitespace();
    if (this.#at >= this.#text.length) {
      throw new JsonSyntaxError(this.#at, 'The file is empty: a manifest is a JSON object such as {"apiVersion": "2", ...}.');
    }
    const value = this.#value([]);
    this.#skipWhitespace();
    if (this.#at < this.#text.length) {
      throw new JsonSyntaxError(
        this.#at,
        `Unexpected ${this.#describe()} after the end of the manifest: a manifest is one JSON object; remove what follows its closing brace.`,
      );
    }
    return { value, locations: this.#locations, duplicateKeys: this.#duplicates };
  }

  #value(path: (string | number)[], key?: Span): unknown {
    const start = this.#at;
    const c = this.#text[this.#at];
    let value: unknown;
    if (c === "{") value = this.#object(path);
    else if (c === "[") value = this.#array(path);
    else if (c === '"') value = this.#string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) value = this.#number();
    else if (this.#text.startsWith("true", this.#at) && !isWordChar(this.#text[this.#at + 4])) value = this.#literal("true", true);
    else if (this.#text.startsWith("false", this.#at) && !isWordChar(this.#text[this.#at + 5])) value = this.#literal("false", false);
    else if (this.#text.startsWith("null", this.#at) && !isWordChar(this.#text[this.#at + 4])) value = this.#literal("null", null);
    else throw this.#unexpectedValue();
    this.#locations.set(pointerOf(path), { value: { start, end: this.#at }, key });
    return value;
  }

  #object(path: (string | number)[]): Record<string, unknown> {
    this.#enter("{");
    const result: Record<string, unknown> = {};
    const seen = new Map<string, Span>();
    this.#skipWhitespace();
    if (this.#text[this.#at] === "}") return this.#leave(result);
    for (;;) {
      this.#skipWhitespace();
      if (this.#text[this.#at] !== '"') throw this.#expectedKey();
      const keyStart = this.#at;
      const name = this.#string();
      const keySpan = { start: keyStart, end: this.#at };
      this.#skipWhitespace();
      if (this.#text[this.#at] !== ":") {
        throw new JsonSyntaxError(this.#at, `Expected ':' after the property name "${name}", found ${this.#describe()}.`);
      }
      this.#at++;
      this.#skipWhitespace();
      const first = seen.get(name);
      if (first) this.#duplicates.push({ pointer: pointerOf([...path, name]), key: keySpan, first });
      seen.set(name, keySpan);
      // Defined as an own property, so a key named __proto__ stays data.
      Object.defineProperty(result, name, { value: this.#value([...path, name], keySpan), enumerable: true, writable: true, configurable: true });
      if (this.#closes("}")) return this.#leave(result);
    }
  }

  #array(path: (string | number)[]): unknown[] {
    this.#enter("[");
    const result: unknown[] = [];
    this.#skipWhitespace();
    if (this.#text[this.#at] === "]") return this.#leave(result);
    for (;;) {
      this.#skipWhitespace();
      result.push(this.#value([...path, result.length]));
      if (this.#closes("]")) return this.#leave(result);
    }
  }

  /** After a member or element: true at the closing bracket, false after a comma (more follows). */
  #closes(close: "}" | "]"): boolean {
    const valueEnd = this.#at;
    this.#skipWhitespace();
    const next = this.#text[this.#at];
    if (next === close) return true;
    if (next !== ",") throw this.#missingComma(close, valueEnd);
    const comma = this.#at++;
    this.#skipWhitespace();
    if (this.#text[this.#at] === close) throw this.#trailingComma(close, comma);
    return false;
  }

  #enter(open: string): void {
    if (this.#open.length >= MAX_NESTING) throw new JsonSyntaxError(this.#at, `Nesting deeper than ${MAX_NESTING} levels: a manifest is never this deep.`);
    this.#open.push({ open, offset: this.#at });
    this.#at++;
  }

  #leave<T>(value: T): T {
    this.#open.pop();
    this.#at++;
    return value;
  }

  #string(): string {
    const start = this.#at;
    this.#at++;
    let result = "";
    let chunk = this.#at;
    for (;;) {
      const code = this.#text.charCodeAt(this.#at);
      if (Number.isNaN(code)) {
        throw new JsonSyntaxError(this.#at, `Unterminated string starting at ${this.#where(start)}: add the closing '"'.`);
      }
      if (code === 0x22) break;
      if (code < 0x20) {
        const hint = code === 0x0a || code === 0x0d ? "a string cannot span lines; close it with '\"' or write \\n" : "control characters must be escaped (\\t for a tab)";
        throw new JsonSyntaxError(this.#at, `Unescaped control character in a string: ${hint}.`);
      }
      if (code === 0x5c) {
        result += this.#text.slice(chunk, this.#at);
        result += this.#escape();
        chunk = this.#at;
        continue;
      }
      this.#at++;
    }
    result += this.#text.slice(chunk, this.#at);
    this.#at++;
    return result;
  }

  #escape(): string {
    const start = this.#at;
    const c = this.#text[this.#at + 1];
    this.#at += 2;
    switch (c) {
      case '"':
        return '"';
      case "\\":
        return "\\";
      case "/":
        return "/";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u": {
        const hex = this.#text.slice(this.#at, this.#at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError(start, "Invalid \\u escape: write four hex digits, e.g. \\u00e9.");
        this.#at += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        throw new JsonSyntaxError(
          start,
          `Invalid escape '\\${c ?? ""}' in a string: JSON allows \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a backslash as \\\\.`,
        );
    }
  }

  #number(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.#text.slice(this.#at, this.#at + 400));
    const after = this.#text[this.#at + (match?.[0].length ?? 0)];
    if (!match || (after !== undefined && /[0-9.eE+\-xXa-zA-Z_]/.test(after))) {
      throw new JsonSyntaxError(this.#at, `Invalid number ${this.#describe()}: JSON numbers look like 1, 0.5 or 2e3, without leading zeros, '+' or a trailing '.'.`);
    }
    this.#at += match[0].length;
    return Number(match[0]);
  }

  #literal<T>(word: string, value: T): T {
    this.#at += word.length;
    return value;
  }

  #skipWhitespace(): void {
    for (;;) {
      const c = this.#text.charCodeAt(this.#at);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.#at++;
      else if (c === 0x2f && (this.#text[this.#at + 1] === "/" || this.#text[this.#at + 1] === "*")) {
        throw new JsonSyntaxError(this.#at, "Comments are not allowed in JSON: remove it (or write the manifest as cumulocity.yaml, where # comments are allowed).");
      } else return;
    }
  }

  #unexpectedValue(): JsonSyntaxError {
    const c = this.#text[this.#at];
    if (c === undefined) return this.#endOfInput();
    if (c === "'") return new JsonSyntaxError(this.#at, "Strings must be in double quotes: replace the single quotes with \".");
    if (c === "}" || c === "]") return new JsonSyntaxError(this.#at, `Expected a value before '${c}'.`);
    if (c === "+" || c === ".") return new JsonSyntaxError(this.#at, `Invalid number ${this.#describe()}: JSON numbers do not start with '${c}'; write 2, 0.5 or -1.`);
    const word = /^[A-Za-z_$][\w$]*/.exec(this.#text.slice(this.#at, this.#at + 40))?.[0];
    if (word) {
      const lower = word.toLowerCase();
      const literal = ["true", "false", "null"].includes(lower) ? `; write ${lower}` : "";
      return new JsonSyntaxError(this.#at, `Unexpected '${word}': a JSON value is a "string", a number, true, false, null, an object or an array${literal}.`);
    }
    return new JsonSyntaxError(this.#at, `Unexpected ${this.#describe()}: expected a JSON value.`);
  }

  #expectedKey(): JsonSyntaxError {
    const c = this.#text[this.#at];
    if (c === undefined) return this.#endOfInput();
    if (c === "'") return new JsonSyntaxError(this.#at, "Property names must be in double quotes: replace the single quotes with \".");
    const word = /^[A-Za-z_$][\w$-]*/.exec(this.#text.slice(this.#at, this.#at + 60))?.[0];
    if (word) return new JsonSyntaxError(this.#at, `Property names must be in double quotes: write "${word}".`);
    return new JsonSyntaxError(this.#at, `Expected a property name in double quotes, found ${this.#describe()}.`);
  }

  #trailingComma(close: string, comma: number): JsonSyntaxError {
    return new JsonSyntaxError(this.#at, `Trailing comma before '${close}': remove the ',' at ${this.#where(comma)}.`);
  }

  #missingComma(close: string, valueEnd: number): JsonSyntaxError {
    if (this.#at >= this.#text.length) return this.#endOfInput();
    return new JsonSyntaxError(
      this.#at,
      `Expected ',' or '${close}' but found ${this.#describe()}: add a comma after the value that ends at ${this.#where(valueEnd)}.`,
    );
  }

  #endOfInput(): JsonSyntaxError {
    const innermost = this.#open.at(-1);
    const what = innermost
      ? `close the '${innermost.open}' opened at ${this.#where(innermost.offset)} with '${innermost.open === "{" ? "}" : "]"}'`
      : "the manifest is incomplete";
    return new JsonSyntaxError(this.#text.length, `Unexpected end of file: ${what}.`);
  }

  #describe(): string {
    const rest = this.#text.slice(this.#at);
    if (rest === "") return "the end of the file";
    const token = /^("(?:[^"\\\r\n]|\\.){0,24}"?|[\w$.+-]{1,24}|.)/su.exec(rest)?.[0] ?? rest.charAt(0);
    return `'${token}'`;
  }

  #where(offset: number): string {
    this.#lines ??= new LineIndex(this.#text);
    const { line, column } = this.#lines.position(offset);
    return `line ${line} column ${column}`;
  }
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\w$]/.test(c);
}
