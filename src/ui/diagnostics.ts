import { countLabel, formatDiagnostic, type Diagnostic } from "../manifest/diagnostics.js";

/** `2 errors, 1 warning` */
export function problemCounts(errors: number, warnings: number): string {
  return `${countLabel(errors, "error")}, ${countLabel(warnings, "warning")}`;
}

/**
 * Problems grouped by file, each group headed by its counts and listed in document order, one
 * `file:line:column  pointer  severity: message [rule]` per line (spec/cli.md, validate). Plain
 * text: it is the command's result on stdout, where colour would break pipes and CI logs.
 */
export function renderDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  return [...byFile]
    .map(([file, list]) => {
      const errors = list.filter((d) => d.severity === "error").length;
      return [`${file}: ${problemCounts(errors, list.length - errors)}`, ...list.map(formatDiagnostic)].join("\n");
    })
    .join("\n\n");
}
