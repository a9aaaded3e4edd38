import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { pipeline, Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Context } from "../context.js";
import { CancelledError, CliError } from "../errors.js";
import { makeScratchDir, discardTemp } from "../fs/atomic.js";
import { inspectImage, saveImage } from "../image/engine-commands.js";
import { detectEngine } from "../image/engine.js";
import { inspectImageTarFile } from "../image/image-tar.js";
import { ImageRejectedError, REBUILD_HINT, selectImage } from "../image/normalise.js";
import { formatBytes } from "../format.js";
import { BlobCache, BlobDigestError } from "./blob-cache.js";
import { parseImageConfig, type ImageConfig } from "./image-config.js";
import { MANIFEST_TYPES, RegistryClient, RegistryError, registryCredentials, type RegistryHttp } from "./registry.js";
import type { ImageSource, RegistryReference } from "./reference.js";

/**
 * A base image ready to build on: its config, and every layer uncompressed in the cache
 * under its diff id. From a registry (the linux/amd64 entry of an index), a saved archive, or
 * an engine's store; what the cache has already is not fetched, read or saved again.
 */
export interface BaseImage {
  /** The config's digest: the image id. */
  id: string;
  config: ImageConfig;
  /** Where it came from, for messages. */
  source: string;
  /** Bytes brought into the cache by this build (0 when all of it was there). */
  fetched: number;
}

export type BaseImageContext = Pick<Context, "env" | "signal" | "logger" | "redactor" | "progress" | "exec"> & { http: RegistryHttp };

export interface ResolveOptions {
  /** Look the tag up again instead of using the digest it had last time (--no-cache). */
  refresh: boolean;
}

export async function resolveBaseImage(source: ImageSource, cache: BlobCache, options: ResolveOptions, ctx: BaseImageContext): Promise<BaseImage> {
  switch (source.kind) {
    case "registry":
      return fromRegistry(source.reference, cache, options, ctx);
    case "archive":
      return fromArchive(source.path, `${source.transport}:${source.path}`, cache, ctx);
    case "engine":
      return fromEngine(source.ref, cache, ctx);
  }
}

async function fromRegistry(reference: RegistryReference, cache: BlobCache, options: ResolveOptions, ctx: BaseImageContext): Promise<BaseImage> {
  // A reference resolved before is used as it was, as an engine uses a local image: no request at all.
  const remembered = options.refresh && !reference.digest ? undefined : await cache.readRef(reference.canonical);
  if (remembered) {
    const image = await cachedImage(cache, remembered, reference.canonical);
    if (image) return image;
  }
  const client = new RegistryClient(reference, ctx, await registryCredentials(ctx, reference.registry));
  const manifest = await platformManifest(client, reference.digest ?? reference.tag!);
  const configDigest = manifest.config.digest;
  let config = await cache.readSmall(configDigest);
  if (!config) {
    config = await collect(await client.blob(configDigest, `the config of ${reference.canonical}`), 4 * 1024 * 1024);
    await cache.writeSmall(configDigest, config, `The config of ${reference.canonical}`);
  }
  const parsed = parseBaseConfig(config, reference.canonical);
  const diffIds = parsed.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageRejectedError(`${reference.canonical} lists ${manifest.layers.length} layers but its config ${diffIds.length}.`, { hint: "The image in the registry is inconsistent; use another tag or digest." });
  }
  const missing = [];
  for (const [i, layer] of manifest.layers.entries()) if (!(await cache.has(diffIds[i]!))) missing.push({ ...layer, diffId: diffIds[i]! });
  let fetched = 0;
  if (missing.length > 0) {
    const total = missing.reduce((sum, l) => sum + l.size, 0);
    const progress = ctx.progress(`Fetching ${reference.canonical}`, total);
    try {
      for (const layer of missing) {
        const compression = layerCompression(layer.mediaType, reference.canonical);
        const body = await client.blob(layer.digest, `the layer ${layer.digest} of ${reference.canonical}`);
        await cache.writeStream(layer.diffId, uncompressed(Readable.from(body), compression, { digest: layer.digest, size: layer.size }, (n) => progress.advance(n)), ctx.signal);
        fetched += layer.size;
      }
      progress.done();
    } catch (error) {
      progress.fail();
      throw error;
    }
  }
  await cache.writeRef(reference.canonical, configDigest);
  ctx.logger.debug(`${reference.canonical}: ${client.requests} registry requests, ${formatBytes(fetched)} fetched`);
  return { id: configDigest, config: parsed, source: reference.canonical, fetched };
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

/** The image manifest for linux/amd64: the reference itself, or its entry in an index. */
async function platformManifest(client: RegistryClient, tagOrDigest: string): Promise<{ config: Descriptor; layers: Descriptor[] }> {
  const label = client.reference.canonical;
  let fetched = await client.manifest(tagOrDigest);
  let body = parseManifest(fetched.body, label);
  if (fetched.mediaType === MANIFEST_TYPES.ociIndex || fetched.mediaType === MANIFEST_TYPES.dockerList || Array.isArray(body.manifests)) {
    const entries = (Array.isArray(body.manifests) ? body.manifests : []) as Descriptor[];
    const amd64 = entries.filter((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64");
    // Plain amd64 first: a v2/v3 variant needs a newer CPU than the platform promises.
    const chosen = amd64.find((m) => !m.platform?.variant) ?? amd64[0];
    if (!chosen) {
      const platforms = entries.map((m) => `${m.platform?.os ?? "?"}/${m.platform?.architecture ?? "?"}`).filter((p) => p !== "unknown/unknown");
      throw new ImageRejectedError(`${label} has no linux/amd64 image (it has ${[...new Set(platforms)].join(", ") || "none"}); Cumulocity runs only linux/amd64 images.`, { hint: REBUILD_HINT });
    }
    fetched = await client.manifest(chosen.digest);
    body = parseManifest(fetched.body, label);
  }
  if (fetched.mediaType !== MANIFEST_TYPES.ociManifest && fetched.mediaType !== MANIFEST_TYPES.dockerManifest && !body.config) {
    throw new RegistryError(`${label} is served as ${fetched.mediaType || "an unknown manifest type"}, which c8y-ms does not read.`, {
      hint: "c8y-ms reads OCI and Docker v2 schema 2 manifests and indexes; push the image again with a current tool.",
    });
  }
  const config = body.config as Descriptor | undefined;
  const layers = (body.layers ?? []) as Descriptor[];
  if (!config?.digest || !Array.isArray(layers) || layers.some((l) => typeof l.digest !== "string" || typeof l.size !== "number")) {
    throw new RegistryError(`The manifest of ${label} lacks its config or layer digests.`, { hint: "The image in the registry is damaged; use another tag or digest." });
  }
  return { config, layers };
}

function parseManifest(body: Buffer, label: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new RegistryError(`The manifest of ${label} is not JSON.`, { hint: "The registry answered with something else than a manifest; check the registry's address." });
}

function layerCompression(mediaType: string, label: string): "gzip" | "none" {
  if (/zstd/.test(mediaType)) {
    throw new ImageRejectedError(`${label} has zstd-compressed layers; the platform cannot load them (nor can Docker before 23).`, { hint: "Use a base image with gzip layers (the official images are)." });
  }
  if (/gzip/.test(mediaType)) return "gzip";
  if (mediaType === "application/vnd.oci.image.layer.v1.tar" || mediaType === "application/vnd.docker.image.rootfs.diff.tar") return "none";
  throw new ImageRejectedError(`${label} has a layer of type ${mediaType}, which is not a file system layer c8y-ms can read.`, { hint: "Use a linux/amd64 base image with ordinary layers." });
}

/**
 * A layer's uncompressed bytes; the stored bytes are checked against `stored` (digest and
 * size) when they end, before the caller commits what it wrote.
 */
async function* uncompressed(raw: Readable, compression: "gzip" | "none", stored: { digest: string; size: number }, onProgress: (bytes: number) => void): AsyncGenerator<Buffer> {
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      onProgress(chunk.length);
      callback(null, chunk);
    },
  });
  const output = compression === "gzip" ? pipeline(raw, tap, createGunzip({ chunkSize: 256 * 1024 }), () => {}) : pipeline(raw, tap, () => {});
  try {
    for await (const chunk of output as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    if (error instanceof CancelledError || error instanceof BlobDigestError || error instanceof RegistryError) throw error;
    throw new BlobDigestError(`The layer ${stored.digest} cannot be read: ${(error as Error).message}.`, { hint: "The layer arrived damaged; build again, and if it persists check the base image's source.", cause: error });
  } finally {
    output.destroy();
  }
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== stored.digest || size !== stored.size) {
    throw new BlobDigestError(`The layer ${stored.digest} arrived as ${actual} (${size} bytes, ${stored.size} expected): the bytes do not match their digest.`, {
      hint: "The registry or something in between (a proxy) changed it; nothing was kept. Build again, and if it persists check the base image's source.",
    });
  }
}

/** An image the cache holds whole, or undefined. */
async function cachedImage(cache: BlobCache, id: string, source: string): Promise<BaseImage | undefined> {
  const bytes = await cache.readSmall(id);
  if (!bytes) return undefined;
  const config = parseBaseConfig(bytes, source);
  for (const diffId of config.rootfs.diff_ids) if (!(await cache.has(diffId))) return undefined;
  return { id, config, source, fetched: 0 };
}

/** A `docker save` or OCI layout archive: its linux/amd64 image, layers copied into the cache once. */
async function fromArchive(path: string, label: string, cache: BlobCache, ctx: BaseImageContext): Promise<BaseImage> {
  const file = await inspectImageTarFile(path);
  const image = selectImage(file);
  const cached = await cachedImage(cache, image.info.id, label);
  if (cached) return cached;
  await cache.writeSmall(image.info.id, image.config, `The config of ${label}`);
  const config = parseBaseConfig(image.config, label);
  let fetched = 0;
  for (const layer of image.layers) {
    if (!layer.diffId || (await cache.has(layer.diffId))) continue;
    if (layer.compression === "zstd") throw new ImageRejectedError(`The layer ${layer.name} of ${label} is zstd-compressed; the platform cannot load it.`, { hint: "Save a base image with gzip or uncompressed layers." });
    const { dataOffset, size } = layer.entry;
    const raw = size === 0 ? Readable.from([]) : createReadStream(path, { start: dataOffset, end: dataOffset + size - 1, highWaterMark: 1024 * 1024 });
    const digest = layer.digest ?? (layer.compression === "none" ? layer.diffId : undefined);
    if (digest) {
      await cache.writeStream(layer.diffId, uncompressed(raw, layer.compression, { digest, size }, () => {}), ctx.signal);
    } else {
      // A docker-archive names a gzip layer by its diff id only: the uncompressed bytes are checked.
      await cache.writeStream(layer.diffId, uncompressedUnchecked(raw, layer.compression), ctx.signal);
    }
    fetched += size;
  }
  return { id: image.info.id, config, source: label, fetched };
}

async function* uncompressedUnchecked(raw: Readable, compression: "gzip" | "none"): AsyncGenerator<Buffer> {
  const output = compression === "gzip" ? pipeline(raw, createGunzip(), () => {}) : raw;
  yield* output as AsyncIterable<Buffer>;
}

/** The engine's image, saved only when the cache does not hold it by id already. */
async function fromEngine(ref: string, cache: BlobCache, ctx: BaseImageContext): Promise<BaseImage> {
  const engine = await detectEngine(ctx);
  const found = await inspectImage(ctx, engine, ref);
  if (!found) throw new CliError(`${engine.name} has no image ${ref}.`, { hint: `Pull or build it first (\`${engine.command} images\` lists what is there).` });
  const label = `docker-daemon:${ref}`;
  const cached = await cachedImage(cache, found.id, label);
  if (cached) return cached;
  const scratch = makeScratchDir("base");
  try {
    const saved = join(scratch, "base.tar");
    await saveImage(ctx, engine, ref, saved);
    return await fromArchive(saved, label, cache, ctx);
  } finally {
    await discardTemp(scratch);
  }
}

function parseBaseConfig(bytes: Buffer, label: string): ImageConfig {
  let config: ImageConfig;
  try {
    config = parseImageConfig(bytes, `The config of ${label}`);
  } catch (error) {
    throw new ImageRejectedError(`${(error as Error).message}.`, { hint: "Use another base image; this one is damaged." });
  }
  if (config.os !== "linux" || config.architecture !== "amd64") {
    throw new ImageRejectedError(`${label} is built for ${config.os}/${config.architecture}; Cumulocity runs only linux/amd64 images.`, { hint: REBUILD_HINT });
  }
  return config;
}

async function collect(chunks: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) throw new RegistryError(`An image config of more than ${limit} bytes is not a config.`, { hint: "Check the base image reference." });
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
