import { createReadStream } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Context } from "../context.js";
import { formatBytes, formatDuration } from "../format.js";
import type { ChunkReuse } from "../archive/parallel-deflate.js";
import { BlobCache, cacheDir } from "./blob-cache.js";
import { chunkCache } from "./chunk-cache.js";
import { resolveBaseImage } from "./base-image.js";
import { applyCopies } from "./copy.js";
import { writeDockerArchive } from "./docker-archive.js";
import { parseDockerfile } from "./dockerfile.js";
import { imageConfigWith } from "./image-config.js";
import { LayerTree, writeLayer, type WrittenLayer } from "./layer.js";
import { checkNativeCode } from "./native.js";
import { dockerignore } from "./patterns.js";
import { recipeFor } from "./recipes.js";
import { parseImageSource } from "./reference.js";
import type { RegistryHttp } from "./registry.js";
import { applyStage, finalStage } from "./stage.js";

/**
 * `--engine none`: the image built by c8y-ms itself, as ko and Jib do it. The Dockerfile's
 * final stage is read, its base image taken from a registry, an archive or an engine's store
 * (cached by content), the COPY steps (and the templates' npm / pip steps, run with this
 * machine's tools) written as one application layer, and the result saved as the
 * docker-archive the platform loads. Nothing runs in a container.
 */
export interface EngineFreeBuildOptions {
  dockerfile: string;
  tag: string;
  buildArgs: readonly string[];
  /** --no-cache: look base image tags up again (blobs are content-addressed and stay). */
  refresh: boolean;
  /** A directory the caller owns and removes: the archive and the staging files go there. */
  workDir: string;
  /** The shipped node template's Dockerfile: a project that has it is built the engine-less way. */
  nodeTemplate: string;
}

export interface EngineFreeImage {
  /** The docker-archive (single image, linux/amd64, uncompressed layers). */
  path: string;
  /** The config's digest: the image id `docker load` shows. */
  id: string;
  ref: string;
  os: "linux";
  architecture: "amd64";
  /** Size of the archive. */
  bytes: number;
  /** The base image: where it came from, its id, and the bytes this build fetched (0 from the cache). */
  base: { source: string; id: string; fetched: number };
  /** Deflated chunks of the base layers kept in the cache, for the zip. */
  chunks: ChunkReuse;
}

export type EngineFreeContext = Pick<Context, "env" | "signal" | "logger" | "redactor" | "progress" | "exec"> & { http: RegistryHttp };

export async function buildImageWithoutEngine(options: EngineFreeBuildOptions, ctx: EngineFreeContext): Promise<EngineFreeImage> {
  const started = performance.now();
  const contextDir = dirname(options.dockerfile);
  const dockerfile = parseDockerfile(await readFile(options.dockerfile, "utf8"), options.dockerfile);
  const stage = finalStage(dockerfile, options.buildArgs);
  const ignore = dockerignore(await readFile(join(contextDir, ".dockerignore"), "utf8").catch(() => ""));
  ctx.logger.step(`Building ${options.tag} for linux/amd64 without a container engine, on ${stage.base}`);
  const stagingDir = join(options.workDir, "staging");
  const recipe = await recipeFor({ dockerfile, contextDir, ignore, stagingDir, nodeTemplate: options.nodeTemplate }, ctx);
  // An instruction c8y-ms cannot do stops the build before anything is fetched.
  applyStage(stage, {}, options.dockerfile, recipe.overrides);

  // 1. The base image, from the cache when it holds it.
  const cache = new BlobCache(cacheDir(ctx.env));
  const base = await resolveBaseImage(parseImageSource(stage.base), cache, { refresh: options.refresh }, ctx);
  ctx.logger.debug(`Base image ${base.source} (${base.id.slice(0, 19)}): ${base.fetched ? `${formatBytes(base.fetched)} fetched` : "from the cache"}`);

  // 2. The application layer: reused when the recipe's inputs are unchanged, else the steps
  // c8y-ms runs itself, then WORKDIR directories and every COPY, sorted, owner and times fixed.
  const applied = applyStage(stage, base.config.config ?? {}, options.dockerfile, recipe.overrides);
  const key = recipe.layerKey && (await recipe.layerKey(base.id));
  let layer: (WrittenLayer & { cached?: boolean }) | undefined = key && !options.refresh ? await reusableLayer(cache, key) : undefined;
  if (layer) {
    ctx.logger.debug(`Application layer ${layer.diffId.slice(0, 19)} from the cache (same inputs)`);
  } else {
    await mkdir(stagingDir, { recursive: true });
    await recipe.prepare(base.config);
    const tree = new LayerTree();
    for (const dir of applied.workdirs) tree.ensureDirectory(dir, { uid: 0, gid: 0 });
    await applyCopies(tree, applied.copies, { contextDir, ignore, dockerfile: options.dockerfile });
    const entries = tree.entries();
    await checkNativeCode(entries, recipe.nativeFix);
    layer = entries.length > 0 ? await writeLayer(tree, join(options.workDir, "app-layer.tar"), ctx.signal) : undefined;
    if (layer && key) await keepLayer(cache, key, layer, ctx.signal);
  }

  // 3. The config and the archive.
  const config = imageConfigWith(base.config, applied.config, applied.history, layer && { diffId: layer.diffId, createdBy: `c8y-ms: ${applied.copies.length} COPY step(s) of ${dockerfile.path.split("/").at(-1)}` });
  const archive = await writeDockerArchive(join(options.workDir, "image.tar"), config, options.tag, cache, layer, ctx.signal);
  ctx.logger.success(`Built ${options.tag} (${archive.id.slice(0, 19)}) without an engine in ${formatDuration(performance.now() - started)}`);
  return { path: archive.path, id: archive.id, ref: options.tag, os: "linux", architecture: "amd64", bytes: archive.bytes, base: { source: base.source, id: base.id, fetched: base.fetched }, chunks: chunkCache(cache.dir, archive.basePrefix) };
}

/** The layer an earlier build made from the same inputs, if the cache still holds it. */
async function reusableLayer(cache: BlobCache, key: string): Promise<(WrittenLayer & { cached: boolean }) | undefined> {
  const diffId = await cache.readRef(`layer ${key}`);
  if (!diffId || !(await cache.has(diffId))) return undefined;
  return { path: cache.blobPath(diffId), diffId, size: (await stat(cache.blobPath(diffId))).size, cached: true };
}

async function keepLayer(cache: BlobCache, key: string, layer: WrittenLayer, signal: AbortSignal): Promise<void> {
  await cache.writeStream(layer.diffId, createReadStream(layer.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, signal);
  await cache.writeRef(`layer ${key}`, layer.diffId);
}
