import type { Context } from "../context.js";
import { ExitCode } from "../errors.js";
import { runChecks, type Check, type CheckStatus, type DoctorSettings } from "../pipeline/doctor.js";
import type { CommandResult } from "../result.js";

/**
 * `c8y-ms doctor`: the checks, what to fix; exit 4 when the platform refused the credentials
 * or their roles (as every other command does), else 1 when any failed.
 */
export async function doctor(options: DoctorSettings, ctx: Context): Promise<CommandResult> {
  const { result, refused } = await runChecks(options, ctx);
  return { data: result, line: renderChecks(result.checks), exitCode: result.ok ? ExitCode.Ok : refused ? ExitCode.Auth : ExitCode.Failure };
}

const MARKS: Record<CheckStatus, string> = { ok: "✔", warn: "⚠", fail: "✖", skip: "-" };

function renderChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .flatMap((c) => [`${MARKS[c.status]} ${c.name.padEnd(width)}  ${c.detail}`, ...(c.fix && c.status !== "ok" ? [`  ${" ".repeat(width)}  fix: ${c.fix}`] : [])])
    .join("\n");
}
