import { formatDiagnostic, placeOf, type Diagnostic, type ShowFile } from "../diagnostics.js";
import { countLabel } from "../format.js";

/** `2 errors, 1 warning` */
export function problemCounts(errors: number, warnings: number): string {
  return `${countLabel(errors, "error")}, ${countLabel(warnings, "warning")}`;
}

/**
 * Problems grouped by place (a file, or an entry of a zip), each group headed by its counts, in
 * the order given (reports keep them in document order), one `file:line:column  pointer
 * severity: message [rule]` per line (spec/cli.md, validate). One pass, so thousands of
 * problems cost no more than their lines. Plain text: it is the command's result on stdout,
 * where colour would break pipes and CI logs.
 */
export function renderDiagnostics(diagnostics: Iterable<Diagnostic>, showFile?: ShowFile): string {
  const groups = new Map<string, { errors: number; lines: string[] }>();
  for (const d of diagnostics) {
    const place = placeOf(d, showFile);
    let group = groups.get(place);
    if (!group) groups.set(place, (group = { errors: 0, lines: [] }));
    if (d.severity === "error") group.errors++;
    group.lines.push(formatDiagnostic(d, showFile));
  }
  return [...groups]
    .map(([place, { errors, lines }]) => `${place}: ${problemCounts(errors, lines.length - errors)}\n${lines.join("\n")}`)
    .join("\n\n");
}
