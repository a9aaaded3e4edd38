/** A range of a manifest's text, as string offsets (UTF-16 code units, like editors count). */
export interface Span {
  start: number;
  end: number;
}

/** Where a value sits in the text, and the key that names it when it is an object member. */
export interface Location {
  value: Span;
  key?: Span | undefined;
}

/** JSON pointer -> location, filled by the JSON and YAML readers alike. */
export type Locations = Map<string, Location>;

/** A parsed manifest text: the plain value plus where each part of it was written. */
export interface SourceDocument {
  value: unknown;
  locations: Locations;
  /** Keys written more than once; the value holds the last one, as every JSON reader does. */
  duplicateKeys: { pointer: string; key: Span; first: Span }[];
}

/** A reader's fatal error: nothing after it can be trusted. */
export interface SyntaxProblem {
  offset: number;
  message: string;
}

export type ReadResult = { ok: true; document: SourceDocument } | { ok: false; problem: SyntaxProblem };

export interface Position {
  line: number;
  column: number;
}

/**
 * Offsets to 1-based line and column. `\r\n`, `\n` and a lone `\r` each end a line, so CRLF
 * files report the same positions as LF ones; a tab is one column, as in editors and compilers.
 */
export class LineIndex {
  readonly #starts: number[] = [0];
  readonly #length: number;

  constructor(text: string) {
    this.#length = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) this.#starts.push(i + 1);
    }
    // A byte-order mark is invisible in editors: column 1 starts after it.
    if (text.charCodeAt(0) === 0xfeff) this.#starts[0] = 1;
  }

  position(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.#length));
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#starts[mid] ?? 0) <= at) low = mid;
      else high = mid - 1;
    }
    const start = this.#starts[low] ?? 0;
    return { line: low + 1, column: Math.max(at - start, 0) + 1 };
  }

  get lineCount(): number {
    return this.#starts.length;
  }
}

/** RFC 6901: `~` and `/` inside a key are escaped. */
export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

export function parentPointer(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf("/")));
}
