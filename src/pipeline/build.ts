import { copyFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Context } from "../context.js";
import { UsageError, ValidationError } from "../errors.js";
import { formatDuration } from "../format.js";
import { discardTemp, makeScratchDir, withAtomicFile } from "../fs/atomic.js";
import { buildImage, inspectImage, TARGET_PLATFORM, usesBuildKit, type LocalImage } from "../image/engine-commands.js";
import { detectBuilder, type Engine } from "../image/engine.js";
import { ImageRejectedError, REBUILD_HINT } from "../image/normalise.js";
import { loadManifest, ManifestInvalidError, type Manifest } from "../manifest/load.js";
import { buildImageWithoutEngine, type EngineFreeImage } from "../oci/build-image.js";
import { createDispatcher } from "../platform/dispatcher.js";
import { TEMPLATES_DIR } from "../scaffold/catalog.js";

/** How to build the service's image (the flags of `build`, `pack` and `deploy`). */
export interface BuildSettings {
  /** docker, podman or none (c8y-ms builds it); the first engine found, else none, when not given. */
  engine?: string | undefined;
  /** `KEY=VALUE` build arguments. */
  buildArg: string[];
  /** false with --no-cache. */
  cache: boolean;
  /** The image tag; `<name>:<version>` when not given. */
  tag?: string | undefined;
}

export interface BuiltImage extends LocalImage {
  ref: string;
  engine: Engine;
}

/** An image c8y-ms built itself: a docker-archive in the project's dist/. */
export interface ArchivedImage extends Omit<EngineFreeImage, "path" | "chunks"> {
  file: string;
}

type BuildContext = Pick<Context, "cwd" | "env" | "exec" | "logger" | "signal" | "redactor" | "progress">;

/**
 * `c8y-ms build`: the project's image for linux/amd64, tagged `<name>:<version>` unless told
 * otherwise, in the engine's store; without an engine, a docker-archive in dist/
 * (`docker load -i` takes it), moved there only when whole.
 */
export async function buildProjectImage(dir: string, settings: BuildSettings, ctx: BuildContext): Promise<BuiltImage | ArchivedImage> {
  const projectDir = resolve(ctx.cwd, dir);
  const tag = settings.tag ?? imageTag(await validManifest(projectDir));
  const engine = await detectBuilder(ctx, settings.engine);
  if (engine !== "none") return buildServiceImage(projectDir, tag, settings, engine, ctx);
  // The archive is named after the service, as pack names the zip.
  const manifest = await validManifest(projectDir);
  const file = join(projectDir, "dist", `${serviceName(manifest)}-${manifest.version}.image.tar`);
  const workDir = makeScratchDir("build");
  try {
    const built = await buildWithoutEngine(projectDir, tag, settings, workDir, ctx);
    await withAtomicFile(file, (temp) => copyFile(built.path, temp));
    return { ref: built.ref, id: built.id, os: built.os, architecture: built.architecture, bytes: built.bytes, base: built.base, file };
  } finally {
    await discardTemp(workDir);
  }
}

/**
 * c8y-ms builds the image itself (src/oci) into `workDir`, reaching registries the way the
 * platform client reaches the platform (proxy variables, extra CAs).
 */
export async function buildWithoutEngine(projectDir: string, tag: string, settings: BuildSettings, workDir: string, ctx: BuildContext): Promise<EngineFreeImage> {
  const http = createDispatcher(ctx.env, ctx.redactor);
  return buildImageWithoutEngine(
    { dockerfile: await findDockerfile(projectDir), tag, buildArgs: settings.buildArg, refresh: !settings.cache, workDir, nodeTemplate: join(TEMPLATES_DIR, "node", "Dockerfile") },
    { ...ctx, http },
  );
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
export async function buildServiceImage(projectDir: string, tag: string, settings: BuildSettings, engine: Engine, ctx: BuildContext): Promise<BuiltImage> {
  const dockerfile = await findDockerfile(projectDir);
  const buildKit = await usesBuildKit(ctx, engine);
  const started = performance.now();
  ctx.logger.step(`Building ${tag} for ${TARGET_PLATFORM} with ${engine.name}${settings.cache ? "" : " (no cache)"}`);
  await buildImage(ctx, engine, {
    contextDir: dirname(dockerfile),
    dockerfile,
    tag,
    buildArgs: settings.buildArg,
    noCache: !settings.cache,
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

/** `Dockerfile` at the root, or `docker/Dockerfile` (the layout of the `microservice` script). */
export async function findDockerfile(projectDir: string): Promise<string> {
  for (const candidate of [join(projectDir, "Dockerfile"), join(projectDir, "docker", "Dockerfile")]) {
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return candidate;
  }
  throw new UsageError(`No Dockerfile in ${projectDir} (nor in its docker/ folder).`, {
    hint: "Add a Dockerfile (`c8y-ms init` scaffolds one), or pack an existing image with --image <ref> or --image-tar <file>.",
  });
}
