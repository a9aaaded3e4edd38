/**
 * The one shape of a problem found in a manifest, a zip or an image, for every layer: the rules
 * make them, reports sort them once, errors quote them, ui/ renders them. Pure.
 */

export type Severity = "error" | "warning";

/**
 * Where a problem is: a file, the entry inside it when the file is a zip, and a position in
 * that text. `line` and `column` are 1-based (1:1 for archives, which have no lines);
 * `pointer` is an RFC 6901 JSON pointer ("" for the whole document).
 */
export interface Location {
  file: string;
  /** The zip entry the position is in, e.g. "cumulocity.json"; absent for a file of its own. */
  entry?: string | undefined;
  line: number;
  column: number;
  pointer: string;
}

export interface Diagnostic extends Location {
  message: string;
  rule: string;
  severity: Severity;
}

/** A report's problems, each list in document order. */
export interface Findings {
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Shows a file name as the user should see it (relative to the working directory, say). */
export type ShowFile = (file: string) => string;

const asGiven: ShowFile = (file) => file;

/** `x.zip!cumulocity.json` for an entry in a zip, else the file: the place spec/cli.md prints. */
export function placeOf(location: Pick<Location, "file" | "entry">, showFile: ShowFile = asGiven): string {
  const file = showFile(location.file);
  return location.entry === undefined ? file : `${file}!${location.entry}`;
}

/** `file:line:column  pointer  severity: message [rule]`, the line `validate` prints (spec/cli.md). */
export function formatDiagnostic(d: Diagnostic, showFile: ShowFile = asGiven): string {
  return `${placeOf(d, showFile)}:${d.line}:${d.column}  ${d.pointer === "" ? "(root)" : d.pointer}  ${d.severity}: ${d.message} [${d.rule}]`;
}

/** The `--json` shape of spec/cli.md: `{file, line, column, pointer, message, rule}`, the entry folded into `file`. */
export function diagnosticDocument(d: Diagnostic, showFile: ShowFile = asGiven): { file: string; line: number; column: number; pointer: string; message: string; rule: string } {
  return { file: placeOf(d, showFile), line: d.line, column: d.column, pointer: d.pointer, message: d.message, rule: d.rule };
}

/** Document order: by file, then the zip itself before its entries, then position; errors before warnings at the same spot. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareText(a.file, b.file) ||
    compareEntries(a.entry, b.entry) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1) ||
    compareText(a.rule, b.rule) ||
    compareText(a.pointer, b.pointer)
  );
}

/** localeCompare, without its cost for the equal strings most comparisons of one report meet. */
function compareText(a: string, b: string): number {
  return a === b ? 0 : a.localeCompare(b);
}

function compareEntries(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return compareText(a, b);
}

/** Sorts once and splits by severity: the one place a report's lists are made. */
export function findingsOf(diagnostics: readonly Diagnostic[]): Findings {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  return { errors: sorted.filter((d) => d.severity === "error"), warnings: sorted.filter((d) => d.severity === "warning") };
}

/** How many diagnostics an error's hint repeats before pointing at `validate`. */
const HINT_LIMIT = 5;

/** The first few diagnostics as lines for an error's hint, so the user need not run `validate` first. */
export function quotedDiagnostics(diagnostics: readonly Diagnostic[]): string[] {
  const shown = diagnostics.slice(0, HINT_LIMIT).map((d) => formatDiagnostic(d));
  if (diagnostics.length > HINT_LIMIT) shown.push(`… and ${diagnostics.length - HINT_LIMIT} more.`);
  return shown;
}

/** Errors and warnings together in document order: one merge of the two sorted lists. */
export function* inDocumentOrder({ errors, warnings }: Findings): Generator<Diagnostic> {
  let e = 0;
  let w = 0;
  while (e < errors.length || w < warnings.length) {
    const error = errors[e];
    const warning = warnings[w];
    if (error && (!warning || compareDiagnostics(error, warning) <= 0)) {
      yield error;
      e++;
    } else if (warning) {
      yield warning;
      w++;
    }
  }
}
