import { createHash } from "node:crypto";
import { rmdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { ChunkReuse } from "../archive/parallel-deflate.js";
import { ZipTooLargeError, type ZipResult } from "../archive/zip-writer.js";
import { inBackground } from "../background.js";
import { imageSizeWarning, PLATFORM_ZIP_LIMIT_BYTES } from "../bundle/limits.js";
import { writeBundle } from "../bundle/write.js";
import type { Context } from "../context.js";
import { formatDiagnostic } from "../diagnostics.js";
import { CliError, UsageError, ValidationError } from "../errors.js";
import { countLabel, formatBytes, formatMebibytes } from "../format.js";
import { discardTemp, makeScratchDir } from "../fs/atomic.js";
import { inspectImage, saveImage, TARGET_PLATFORM } from "../image/engine-commands.js";
import { detectBuilder, type Engine } from "../image/engine.js";
import { inspectImageTarFile, type ImageTarFile } from "../image/image-tar.js";
import { ImageRejectedError, isPlatformReady, prepareImageTar, REBUILD_HINT, selectImage, type PreparedImage } from "../image/normalise.js";
import { loadManifest, ManifestInvalidError, manifestJson, type Manifest } from "../manifest/load.js";
import { buildServiceImage, buildWithoutEngine, imageTag, serviceName, type BuildSettings } from "./build.js";
import { recordStamp, upToDateStamp } from "./pack-stamp.js";

/** How to pack (the flags of `pack` and `deploy`). */
export interface PackSettings extends BuildSettings {
  output?: string | undefined;
  /** Pack this local image instead of building. */
  image?: string | undefined;
  /** Pack this archive saved by docker/podman save instead of building. */
  imageTar?: string | undefined;
  /** 0 (store) to 9. */
  compressionLevel: number;
  /** Largest zip to write; the platform's limit unless an installation raises it. */
  sizeLimit?: number | undefined;
  force?: boolean | undefined;
}

/** The `--json` document of `c8y-ms pack` (spec/cli.md, "JSON results"). */
export interface PackResult {
  file: string;
  bytes: number;
  sha256: string;
  name: string;
  version: string;
  image: { ref: string; id: string; architecture: string; bytes: number };
  upToDate: boolean;
}

/** What pack made, and the manifest it packed, so deploy need not read it again. */
export interface PackedService {
  result: PackResult;
  manifest: Manifest;
}

type PackContext = Pick<Context, "cwd" | "env" | "exec" | "logger" | "progress" | "signal" | "redactor">;

/**
 * 1. validate the manifest, 2. build the image (or take --image / --image-tar), 3. save it to
 * a scratch directory, 4. inspect and normalise it into a linux/amd64 docker-archive, 5. zip
 * it with the manifest, atomically, 6. record a stamp so an unchanged image and manifest
 * reuse the zip next time. Nothing half-written stays behind on failure or Ctrl-C.
 */
export async function packProject(dir: string, settings: PackSettings, ctx: PackContext): Promise<PackedService> {
  const projectDir = resolve(ctx.cwd, dir);
  if (settings.image && settings.imageTar) throw new UsageError("--image and --image-tar exclude each other.", { hint: "Pass the local image with --image, or the saved archive with --image-tar." });
  const level = settings.compressionLevel;

  // 1. The manifest: its errors stop here (exit 3); it names the image and the zip.
  const report = await loadManifest(projectDir);
  if (!report.manifest) throw new ManifestInvalidError(report);
  for (const warning of report.warnings) ctx.logger.warn(formatDiagnostic(warning));
  const manifest = report.manifest;
  const name = serviceName(manifest);
  const tag = settings.tag ?? imageTag(manifest);
  const manifestBytes = Buffer.from(manifestJson(manifest), "utf8");
  const output = settings.output ? resolve(ctx.cwd, settings.output) : join(projectDir, "dist", `${name}-${manifest.version}.zip`);
  const shown = displayPath(ctx.cwd, output);

  // 2. The image.
  const source = await imageSource(projectDir, tag, settings, ctx);

  const wanted = { source: source.id, naming: source.naming, manifest: sha256(manifestBytes), level };
  const stamp = settings.force ? undefined : await upToDateStamp(projectDir, output, wanted);
  if (stamp) {
    await source.discard?.();
    ctx.logger.success(`${shown} is up to date (same image ${short(stamp.image.id)} and manifest); --force packs again.`);
    return { result: { file: output, bytes: stamp.zip.bytes, sha256: stamp.zip.sha256, name, version: manifest.version, image: stamp.image, upToDate: true }, manifest };
  }

  const scratch = makeScratchDir("pack");
  const outputDir = dirname(output);
  const outputDirExisted = await stat(outputDir).then(() => true, () => false);
  try {
    // 3. Saved to scratch (a given archive is read where it is).
    const file = source.file ?? (await inspectImageTarFile(await source.save!(scratch)));
    // 4. A single-image linux/amd64 docker-archive, verified.
    const prepared = await prepareImage(file, scratch, tag, ctx);
    // 5. The zip.
    const limit = settings.sizeLimit ?? PLATFORM_ZIP_LIMIT_BYTES;
    // The engine-less archive is zipped as written: its base-layer chunks line up with earlier
    // packs, and its layers were hashed against their digests as it was written.
    const asWritten = prepared.path === source.file?.path;
    const chunks = asWritten ? source.chunks : undefined;
    const zip = await zipService(output, manifestBytes, asWritten && source.chunks ? { ...prepared, verify: undefined } : prepared, { level, limit, chunks }, ctx);
    const imageTooBig = imageSizeWarning(prepared.bytes, limit);
    if (imageTooBig) ctx.logger.warn(imageTooBig);
    ctx.logger.success(`Packed ${shown}: ${formatBytes(zip.bytes)}, image ${prepared.ref} (${TARGET_PLATFORM}, ${countLabel(prepared.layers.length, "layer")}, ${formatBytes(prepared.bytes)})`);
    const image = { ref: prepared.ref, id: prepared.id, architecture: prepared.architecture, bytes: prepared.bytes };
    // 6. Remember it.
    await recordStamp(projectDir, output, { ...wanted, zip, image });
    return { result: { file: output, bytes: zip.bytes, sha256: zip.sha256, name, version: manifest.version, image, upToDate: false }, manifest };
  } catch (error) {
    // The zip's folder (dist/) goes too if this run made it and it stayed empty.
    if (!outputDirExisted) await rmdir(outputDir).catch(() => {});
    throw error;
  } finally {
    await discardTemp(scratch);
    await source.discard?.();
  }
}

interface ImageSource {
  /** What identifies the image: the engine's id, or the config digest of a saved archive. */
  id: string;
  /** What the zip will call it: another tag of the same image is another zip. */
  naming: string;
  /** A given archive, already inspected. */
  file?: ImageTarFile;
  /** Saves the engine's image into `dir`; returns the archive's path. */
  save?: (dir: string) => Promise<string>;
  /** Removes what building `file` left (the engine-less build's directory). */
  discard?: () => Promise<void>;
  /** Deflated chunks an earlier pack left for this archive's unchanged part. */
  chunks?: ChunkReuse;
}

async function imageSource(projectDir: string, tag: string, settings: PackSettings, ctx: PackContext): Promise<ImageSource> {
  if (settings.imageTar) {
    const path = resolve(ctx.cwd, settings.imageTar);
    if (!(await stat(path).catch(() => undefined))?.isFile()) {
      throw new UsageError(`${settings.imageTar} does not exist.`, { hint: "Pass the file written by `docker save -o <file> <image>` or `podman save -o <file> <image>`." });
    }
    const file = await inspectImageTarFile(path);
    const { info } = selectImage(file);
    return { id: info.id, naming: `${info.repoTags.join(",")} ${tag}`, file };
  }
  const engine = await detectBuilder(ctx, settings.engine);
  if (engine === "none") {
    if (settings.image) throw new UsageError("--image names an engine's image, and --engine none uses no engine.", { hint: "Pass the saved image with --image-tar <file>, or let pack build the project without --image." });
    return engineFreeSource(projectDir, tag, settings, ctx);
  }
  const local = settings.image;
  if (local) {
    const found = await inspectImage(ctx, engine, local);
    if (!found) {
      throw new CliError(`${engine.name} has no image ${local}.`, { hint: `Build or pull it first (\`${engine.command} images\` lists what is there), or pack the project without --image.` });
    }
    if (`${found.os}/${found.architecture}` !== TARGET_PLATFORM) {
      throw new ImageRejectedError(`${local} is built for ${found.os}/${found.architecture}; Cumulocity runs only ${TARGET_PLATFORM} images.`, { hint: REBUILD_HINT });
    }
    return { id: found.id, naming: `${local} ${tag}`, save: (dir) => saveToScratch(ctx, engine, local, found.size, dir) };
  }
  const built = await buildServiceImage(projectDir, tag, settings, engine, ctx);
  return { id: built.id, naming: tag, save: (dir) => saveToScratch(ctx, engine, tag, built.size, dir) };
}

/** c8y-ms builds the image itself: a docker-archive already, named by its config digest. */
async function engineFreeSource(projectDir: string, tag: string, settings: PackSettings, ctx: PackContext): Promise<ImageSource> {
  const workDir = makeScratchDir("build");
  const discard = () => discardTemp(workDir);
  try {
    const built = await buildWithoutEngine(projectDir, tag, settings, workDir, ctx);
    return { id: built.id, naming: tag, file: await inspectImageTarFile(built.path), discard, chunks: built.chunks };
  } catch (error) {
    await discard();
    throw error;
  }
}

async function saveToScratch(ctx: PackContext, engine: Engine, ref: string, expectedBytes: number, dir: string): Promise<string> {
  const path = join(dir, "saved.tar");
  const progress = ctx.progress(`Saving ${ref}`, expectedBytes || undefined);
  // `save` reports nothing while it writes; the file's growth is its progress.
  let seen = 0;
  const poll = setInterval(() => {
    stat(path).then(
      (info) => {
        progress.advance(info.size - seen);
        seen = info.size;
      },
      // Not there yet: the engine has not started writing.
      () => undefined,
    );
  }, 250);
  try {
    await saveImage(ctx, engine, ref, path);
  } catch (error) {
    progress.fail();
    throw error;
  } finally {
    clearInterval(poll);
  }
  const size = (await stat(path)).size;
  progress.advance(size - seen);
  progress.done();
  return path;
}

async function prepareImage(file: ImageTarFile, scratch: string, tag: string, ctx: PackContext): Promise<PreparedImage> {
  const image = selectImage(file);
  const stored = image.layers.reduce((sum, l) => sum + l.entry.size, 0);
  const format = file.layout.report.format;
  const label = format === "docker-archive" ? "Rewriting the docker-archive" : `Converting ${format} to docker-archive`;
  const progress = isPlatformReady(file, image) ? undefined : ctx.progress(label, stored);
  try {
    const prepared = await prepareImageTar(file, { scratchDir: scratch, fallbackTag: tag, signal: ctx.signal, onProgress: (bytes) => progress?.advance(bytes) });
    progress?.done();
    for (const warning of prepared.warnings) ctx.logger.warn(warning.message);
    return prepared;
  } catch (error) {
    progress?.fail();
    throw error;
  }
}

/** Zips while the layers are checked against their digests; the zip is kept only if both succeed. */
async function zipService(output: string, manifest: Buffer, image: PreparedImage, { level, limit, chunks }: { level: number; limit: number; chunks: ChunkReuse | undefined }, ctx: PackContext): Promise<ZipResult> {
  if (level === 0 && image.bytes > limit) throw zipTooLarge(image, level, limit);
  const controller = new AbortController();
  const cancel = () => controller.abort();
  ctx.signal.addEventListener("abort", cancel);
  const verifying = inBackground(image.verify?.(controller.signal) ?? Promise.resolve());
  // A failed verification stops the zip at once; its reason is what the user sees.
  let verifyFailure: { error: unknown } | undefined;
  void verifying.settled.then((outcome) => {
    if (outcome.ok) return;
    verifyFailure = outcome;
    controller.abort();
  });
  const progress = ctx.progress(`Zipping ${basename(output)}`, manifest.length + image.bytes);
  try {
    const result = await writeBundle(output, manifest, { path: image.path, reuse: chunks }, {
      level,
      signal: controller.signal,
      limitBytes: limit,
      onProgress: (bytes) => progress.advance(bytes),
      beforeCommit: () => verifying.result(),
    });
    progress.done();
    return result;
  } catch (error) {
    progress.fail();
    // This zip is not kept: a verification still running has nothing left to decide.
    controller.abort();
    if (verifyFailure && !ctx.signal.aborted) throw verifyFailure.error;
    if (error instanceof ZipTooLargeError) throw zipTooLarge(image, level, limit);
    throw error;
  } finally {
    ctx.signal.removeEventListener("abort", cancel);
  }
}

/** The zip would pass the platform's limit: say which layers weigh most and how to slim them. */
function zipTooLarge(image: PreparedImage, level: number, limit: number): ValidationError {
  const largest = [...image.layers].sort((a, b) => b.size - a.size).slice(0, 5);
  const rows = largest.map((l) => `  ${formatBytes(l.size).padStart(8)}  ${l.createdBy ? truncate(l.createdBy, 70) : l.name}`);
  const compress = level === 0 ? "compress it (--compression-level 6 or 9)" : level < 9 ? "try --compression-level 9" : "";
  return new ImageTooLargeError(`The zip would exceed ${limit === PLATFORM_ZIP_LIMIT_BYTES ? "the platform's limit" : "--size-limit"} of ${formatMebibytes(limit)} (the image is ${formatBytes(image.bytes)} uncompressed).`, {
    hint: [
      "Largest layers:",
      ...rows,
      `Make the image smaller: a slim base image, a multi-stage build that copies only what runs, \`npm ci --omit=dev\`, a .dockerignore${compress ? `; or ${compress}` : ""}.`,
    ].join("\n"),
  });
}

class ImageTooLargeError extends ValidationError {
  override readonly code = "ZIP_TOO_LARGE";
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function short(id: string): string {
  return id.slice(0, 19);
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Relative to the working directory when inside it (what users typed), absolute otherwise. */
export function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}
