import { copyFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Context } from "../context.js";
import { UsageError, ValidationError } from "../errors.js";
import { loadManifest, ManifestInvalidError, type Manifest } from "../manifest/load.js";
import type { CommandResult } from "../result.js";
import { buildImage, inspectImage, TARGET_PLATFORM, usesBuildKit, type LocalImage } from "../image/engine-commands.js";
import { detectBuilder, type Engine } from "../image/engine.js";
import { discardTemp, makeScratchDir, withAtomicFile } from "../fs/atomic.js";
import { buildImageWithoutEngine, type EngineFreeImage } from "../oci/build-image.js";
import { ImageRejectedError, REBUILD_HINT } from "../image/normalise.js";
import { formatDuration } from "../ui/format.js";

export interface BuildOptions {
  engine?: string;
  buildArg: string[];
  /** false with --no-cache. */
  cache: boolean;
  tag?: string;
}

export interface BuiltImage extends LocalImage {
  ref: string;
  engine: Engine;
}

/**
 * `c8y-ms build`: the service's image for linux/amd64, tagged `<name>:<version>`, in the
 * engine's store; with --engine none, a docker-archive in dist/ (`docker load -i` takes it).
 */
export async function build(dir: string, options: BuildOptions, ctx: Context): Promise<CommandResult> {
  const projectDir = resolve(ctx.cwd, dir);
  const tag = options.tag ?? imageTag(await validManifest(projectDir));
  const engine = await detectBuilder(ctx, options.engine);
  if (engine === "none") {
    // The archive is named after the service, as pack names the zip.
    const manifest = await validManifest(projectDir);
    const file = join(projectDir, "dist", `${serviceName(manifest)}-${manifest.version}.image.tar`);
    const image = await buildToFile(projectDir, tag, options, file, ctx);
    return {
      data: { ref: image.ref, id: image.id, os: image.os, architecture: image.architecture, bytes: image.bytes, engine: "none", file, base: image.base },
      line: file,
    };
  }
  const image = await buildServiceImage(projectDir, tag, options, engine, ctx);
  return {
    data: { ref: image.ref, id: image.id, os: image.os, architecture: image.architecture, bytes: image.size, engine: engine.name },
    line: image.ref,
  };
}

/** The project's manifest, or exit 3 with its problems. */
export async function validManifest(projectDir: string): Promise<Manifest> {
  const report = await loadManifest(projectDir);
  if (!report.manifest) throw new ManifestInvalidError(report);
  return report.manifest;
}

export function imageTag(manifest: Manifest): string {
  return `${serviceName(manifest)}:${manifest.version}`;
}

/** The platform can take the name from the zip's file name, but c8y-ms names images and zips after it. */
export function serviceName(manifest: Manifest): string {
  if (!manifest.name) throw new ValidationError("cumulocity.json has no name; c8y-ms names the image and the zip after it.", { hint: 'Add "name" (lowercase letters, digits and dashes) to cumulocity.json.' });
  return manifest.name;
}

/**
 * Builds with the project's Dockerfile for linux/amd64 (attestations off under BuildKit, so
 * `save` writes one image) and checks what came out.
 */
export async function buildServiceImage(projectDir: string, tag: string, options: BuildOptions, engine: Engine, ctx: Context): Promise<BuiltImage> {
  const dockerfile = await findDockerfile(projectDir);
  const buildKit = await usesBuildKit(ctx, engine);
  const started = performance.now();
  ctx.logger.step(`Building ${tag} for ${TARGET_PLATFORM} with ${engine.name}${options.cache ? "" : " (no cache)"}`);
  await buildImage(ctx, engine, {
    contextDir: dirname(dockerfile),
    dockerfile,
    tag,
    buildArgs: options.buildArg,
    noCache: !options.cache,
    network: engine.network,
    buildKit,
  });
  const image = await inspectImage(ctx, engine, tag);
  if (!image) throw new ImageRejectedError(`${engine.name} reported success but has no image ${tag}.`, { hint: "Run the build again with --verbose and look at the engine's output." });
  if (`${image.os}/${image.architecture}` !== TARGET_PLATFORM) {
    throw new ImageRejectedError(`${tag} was built for ${image.os}/${image.architecture}; Cumulocity runs only ${TARGET_PLATFORM} images.`, { hint: REBUILD_HINT });
  }
  ctx.logger.success(`Built ${tag} (${image.id.slice(0, 19)}) in ${formatDuration(performance.now() - started)}`);
  return { ...image, ref: tag, engine };
}

/** The engine-less build, its archive moved to `file` only when whole. */
async function buildToFile(projectDir: string, tag: string, options: BuildOptions, file: string, ctx: Context): Promise<EngineFreeImage> {
  const workDir = makeScratchDir("build");
  try {
    const image = await buildImageWithoutEngine({ dockerfile: await findDockerfile(projectDir), tag, buildArgs: options.buildArg, refresh: !options.cache, workDir }, ctx);
    await withAtomicFile(file, (temp) => copyFile(image.path, temp));
    return { ...image, path: file };
  } finally {
    await discardTemp(workDir);
  }
}

/** `Dockerfile` at the root, or `docker/Dockerfile` (the layout of the `microservice` script). */
export async function findDockerfile(projectDir: string): Promise<string> {
  for (const candidate of [join(projectDir, "Dockerfile"), join(projectDir, "docker", "Dockerfile")]) {
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return candidate;
  }
  throw new UsageError(`No Dockerfile in ${projectDir} (nor in its docker/ folder).`, {
    hint: "Add a Dockerfile (`c8y-ms init` scaffolds one), or pack an existing image with --image <ref> or --image-tar <file>.",
  });
}
