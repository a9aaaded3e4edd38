import type { Context } from "../context.js";
import { buildProjectImage, type BuildSettings } from "../pipeline/build.js";
import type { CommandResult } from "../result.js";

/** `c8y-ms build`: the service's image for linux/amd64, tagged `<name>:<version>`. */
export async function build(dir: string, options: BuildSettings, ctx: Context): Promise<CommandResult> {
  const image = await buildProjectImage(dir, options, ctx);
  return {
    data: { ref: image.ref, id: image.id, os: image.os, architecture: image.architecture, bytes: image.size, engine: image.engine.name },
    line: image.ref,
  };
}
