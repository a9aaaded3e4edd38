import { stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { Context } from "../context.js";
import { ExitCode, UsageError } from "../errors.js";
import { compareDiagnostics, countLabel, type Diagnostic } from "../manifest/diagnostics.js";
import { loadManifest } from "../manifest/load.js";
import type { CommandResult } from "../result.js";
import { problemCounts, renderDiagnostics } from "../ui/diagnostics.js";

export interface ValidateOptions {
  strict?: boolean;
}

/** The `--json` document (spec/cli.md): diagnostics without their severity, which the list they are in says. */
export interface ValidateResult {
  valid: boolean;
  errors: Omit<Diagnostic, "severity">[];
  warnings: Omit<Diagnostic, "severity">[];
}

/**
 * `c8y-ms validate [path]`: a project directory, a manifest file or a built zip. A report, not
 * an error: problems are the result (stdout), the exit code says whether they fail (0 or 3).
 */
export async function validate(path: string, options: ValidateOptions, ctx: Context): Promise<CommandResult> {
  const target = resolve(ctx.cwd, path);
  const info = await stat(target).catch(() => undefined);
  if (!info) {
    throw new UsageError(`${path} does not exist.`, {
      hint: "Pass a project directory, a cumulocity.json or cumulocity.yaml file, or a built .zip (default: the current directory).",
    });
  }
  const display = (file: string) => displayPath(ctx.cwd, file);
  const { subject, diagnostics } = info.isFile() && /\.zip$/i.test(target) ? await zipDiagnostics(target, display, ctx.signal) : await manifestDiagnostics(target, display);
  diagnostics.sort(compareDiagnostics);

  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const valid = errors.length === 0 && !(options.strict && warnings.length > 0);
  if (!valid) {
    const strictNote = errors.length === 0 ? " (--strict makes warnings fail)" : "";
    ctx.logger.error(`${subject} did not pass validation: ${problemCounts(errors.length, warnings.length)}${strictNote}.`);
  } else if (warnings.length > 0) {
    ctx.logger.success(`${subject} is valid, with ${countLabel(warnings.length, "warning")}.`);
  } else {
    ctx.logger.success(`${subject} is valid.`);
  }

  const strip = ({ severity: _severity, ...rest }: Diagnostic) => rest;
  const data: ValidateResult = { valid, errors: errors.map(strip), warnings: warnings.map(strip) };
  return {
    data,
    line: diagnostics.length > 0 ? renderDiagnostics(diagnostics) : undefined,
    exitCode: valid ? ExitCode.Ok : ExitCode.Validation,
  };
}

interface Checked {
  /** What the summary names: the manifest file (also when given its directory) or the zip. */
  subject: string;
  diagnostics: Diagnostic[];
}

async function manifestDiagnostics(target: string, display: (file: string) => string): Promise<Checked> {
  const report = await loadManifest(target);
  const diagnostics = [...report.errors, ...report.warnings].map((d) => ({ ...d, file: display(d.file) }));
  return { subject: display(report.file), diagnostics };
}

async function zipDiagnostics(target: string, display: (file: string) => string, signal: AbortSignal): Promise<Checked> {
  // Loaded only for zips: it reads archives and image tars, which plain manifests never need.
  const { checkUploadZip } = await import("../archive/upload-zip.js");
  const report = await checkUploadZip(target, { signal });
  const shown = display(target);
  const diagnostics = report.diagnostics.map((d: Diagnostic) => ({ ...d, file: d.file.startsWith(target) ? `${shown}${d.file.slice(target.length)}` : d.file }));
  return { subject: shown, diagnostics };
}

/** Relative to the working directory when inside it (what users typed), absolute otherwise. */
function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}
