import type { Context } from "../context.js";
import { displayPath, packProject, type PackSettings } from "../pipeline/pack.js";
import type { CommandResult } from "../result.js";

/** `c8y-ms pack`: the zip the platform takes, and its path on stdout. */
export async function pack(dir: string, options: PackSettings, ctx: Context): Promise<CommandResult> {
  const { result } = await packProject(dir, options, ctx);
  return { data: result, line: displayPath(ctx.cwd, result.file) };
}
