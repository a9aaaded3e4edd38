import { stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { Context } from "../context.js";
import { diagnosticDocument, inDocumentOrder, type Findings, type ShowFile } from "../diagnostics.js";
import { ExitCode, UsageError } from "../errors.js";
import { countLabel } from "../format.js";
import { loadManifest } from "../manifest/load.js";
import type { CommandOptions } from "../options.js";
import type { CommandResult } from "../result.js";
import { problemCounts, renderDiagnostics } from "../ui/diagnostics.js";

/** The `--json` document (spec/cli.md): diagnostics without their severity, which the list they are in says. */
export interface ValidateResult {
  valid: boolean;
  errors: ReturnType<typeof diagnosticDocument>[];
  warnings: ReturnType<typeof diagnosticDocument>[];
}

/**
 * `c8y-ms validate [path]`: a project directory, a manifest file or a built zip. A report, not
 * an error: problems are the result (stdout), the exit code says whether they fail (0 or 3).
 */
export async function validate(path: string, options: CommandOptions["validate"], ctx: Context): Promise<CommandResult> {
  const target = resolve(ctx.cwd, path);
  const info = await stat(target).catch(() => undefined);
  if (!info) {
    throw new UsageError(`${path} does not exist.`, {
      hint: "Pass a project directory, a cumulocity.json or cumulocity.yaml file, or a built .zip (default: the current directory).",
    });
  }
  const show: ShowFile = (file) => displayPath(ctx.cwd, file);
  const { subject, findings } = info.isFile() && /\.zip$/i.test(target) ? await zipFindings(target, ctx.signal) : await manifestFindings(target);
  const { errors, warnings } = findings;

  const valid = errors.length === 0 && !(options.strict && warnings.length > 0);
  if (!valid) {
    const strictNote = errors.length === 0 ? " (--strict makes warnings fail)" : "";
    ctx.logger.error(`${show(subject)} did not pass validation: ${problemCounts(errors.length, warnings.length)}${strictNote}.`);
  } else if (warnings.length > 0) {
    ctx.logger.success(`${show(subject)} is valid, with ${countLabel(warnings.length, "warning")}.`);
  } else {
    ctx.logger.success(`${show(subject)} is valid.`);
  }

  const data: ValidateResult = { valid, errors: errors.map((d) => diagnosticDocument(d, show)), warnings: warnings.map((d) => diagnosticDocument(d, show)) };
  return {
    data,
    line: errors.length + warnings.length > 0 ? () => renderDiagnostics(inDocumentOrder(findings), show) : undefined,
    exitCode: valid ? ExitCode.Ok : ExitCode.Validation,
  };
}

interface Checked {
  /** What the summary names: the manifest file (also when given its directory) or the zip. */
  subject: string;
  findings: Findings;
}

async function manifestFindings(target: string): Promise<Checked> {
  const report = await loadManifest(target);
  return { subject: report.file, findings: report };
}

async function zipFindings(target: string, signal: AbortSignal): Promise<Checked> {
  // Loaded only for zips: it reads archives and image tars, which plain manifests never need.
  const { checkBundleFile } = await import("../bundle/check.js");
  return { subject: target, findings: await checkBundleFile(target, { signal }) };
}

/** Relative to the working directory when inside it (what users typed), absolute otherwise. */
function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}
