import type { Context } from "../context.js";
import { buildProjectImage, type BuildSettings } from "../pipeline/build.js";
import type { CommandResult } from "../result.js";

/** `c8y-ms build`: the service's image for linux/amd64, tagged `<name>:<version>` (with --engine none, in a file). */
export async function build(dir: string, options: BuildSettings, ctx: Context): Promise<CommandResult> {
  const image = await buildProjectImage(dir, options, ctx);
  if ("file" in image) {
    return { data: { ref: image.ref, id: image.id, os: image.os, architecture: image.architecture, bytes: image.bytes, engine: "none", file: image.file, base: image.base }, line: image.file };
  }
  return {
    data: { ref: image.ref, id: image.id, os: image.os, architecture: image.architecture, bytes: image.size, engine: image.engine.name },
    line: image.ref,
  };
}
