import type { Context } from "../context.js";
import { deployService, type DeploySettings } from "../pipeline/deploy.js";
import type { CommandResult } from "../result.js";

/** `c8y-ms deploy [dir|zip]`: the deploy document; without --json, where the service answers. */
export async function deploy(target: string, options: DeploySettings, ctx: Context): Promise<CommandResult> {
  const { result, serviceUrl } = await deployService(target, options, ctx);
  return { data: result, line: serviceUrl };
}
