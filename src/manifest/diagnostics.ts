import { ValidationError } from "../errors.js";

export type Severity = "error" | "warning";

/** One problem at one place: `line` and `column` are 1-based, `pointer` is an RFC 6901 JSON pointer. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  pointer: string;
  message: string;
  rule: string;
  severity: Severity;
}

/** How many diagnostics a ManifestInvalidError repeats in its hint before pointing at `validate`. */
const HINT_LIMIT = 5;

/** `file:line:column  pointer  severity: message [rule]`, the line `validate` prints (spec/cli.md). */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}  ${d.pointer === "" ? "(root)" : d.pointer}  ${d.severity}: ${d.message} [${d.rule}]`;
}

/** Document order, then errors before warnings at the same spot. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1) ||
    a.rule.localeCompare(b.rule) ||
    a.pointer.localeCompare(b.pointer)
  );
}

export function countLabel(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * A manifest that did not pass: commands that need a valid manifest (pack, deploy) throw it
 * and exit 3. The hint repeats the first problems so the user need not run `validate` first.
 */
export class ManifestInvalidError extends ValidationError {
  override readonly code = "MANIFEST_INVALID";
  readonly diagnostics: Diagnostic[];

  constructor(source: { file: string; errors: readonly Diagnostic[] } | readonly Diagnostic[]) {
    const diagnostics = "errors" in source ? [...source.errors] : [...source];
    const file = "errors" in source ? source.file : (diagnostics[0]?.file ?? "the manifest");
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const shown = diagnostics.slice(0, HINT_LIMIT).map(formatDiagnostic);
    if (diagnostics.length > HINT_LIMIT) shown.push(`… and ${diagnostics.length - HINT_LIMIT} more.`);
    super(`${file} is not a valid manifest: ${countLabel(errors || diagnostics.length, "problem")} found.`, {
      hint: [...shown, `Fix them and run \`c8y-ms validate\` to check again.`].join("\n"),
    });
    this.diagnostics = diagnostics;
  }
}
