import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { pipeline, Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { CancelledError, ValidationError, type ErrorCode } from "../errors.js";
import { scanRange } from "../archive/positional.js";
import { TarFileWriter } from "../archive/tar-writer.js";
import { writeFailure } from "../fs/write-errors.js";
import { AMD64, layerOrigins, type ImageProblem, type ResolvedImage, type ResolvedLayer } from "./image-layout.js";
import { inspectImageTarFile, type ImageTarFile } from "./image-tar.js";

/** The image cannot go to the platform as it is: wrong platform, damaged, not an image. Exit 3. */
export class ImageRejectedError extends ValidationError {
  override readonly code: ErrorCode = "IMAGE_INVALID";
}

export const REBUILD_HINT = [
  "Rebuild it for linux/amd64: `c8y-ms build` and `c8y-ms pack` pass --platform linux/amd64;",
  "with Docker, run `docker build --platform linux/amd64 ...` or `export DOCKER_DEFAULT_PLATFORM=linux/amd64` first",
  "(on Apple silicon this uses emulation, so enable Rosetta or QEMU in Docker Desktop).",
].join("\n");

const DAMAGED_HINT = "Save the image again (`docker save -o image.tar <image>`); the archive is damaged or incomplete.";

export interface PreparedImage {
  /** The docker-archive that goes into the zip: the input itself when it already is one. */
  path: string;
  converted: boolean;
  ref: string;
  id: string;
  architecture: string;
  /** Size of the docker-archive. */
  bytes: number;
  /** With the Dockerfile step that made each, when the config's history tells. */
  layers: { name: string; size: number; createdBy?: string | undefined }[];
  /** Warnings about the image (port 80...), for the user. */
  warnings: ImageProblem[];
  /** Checks layer data against its digests; set when the archive is used as it is. */
  verify?: (signal: AbortSignal) => Promise<void>;
}

export interface PrepareOptions {
  /** Where a converted archive is written. */
  scratchDir: string;
  /** RepoTags for an image that has none (an OCI layout saved by digest). */
  fallbackTag: string;
  signal: AbortSignal;
  onProgress?: (bytes: number) => void;
}

/**
 * Turns whatever `save` produced into what the platform reads (platform.md §2): a single-image
 * linux/amd64 docker-archive with manifest.json, the config as `<id>.json` and uncompressed
 * layers as `<diff id>/layer.tar`, each checked against its digest. A classic docker-archive
 * is used as it is; anything else is rewritten, streaming, into `scratchDir`.
 * @throws {ImageRejectedError} not an image, not linux/amd64, or damaged
 */
export async function prepareImageTar(file: ImageTarFile, options: PrepareOptions): Promise<PreparedImage> {
  const image = selectImage(file);
  const repoTags = image.info.repoTags.length ? image.info.repoTags : [options.fallbackTag];
  // A missing tag is mended here (the rewrite names the image), so it is no longer news.
  const warnings = image.problems.filter((p) => p.severity === "warning" && p.rule !== "image-repo-tags");
  const origins = layerOrigins(image.configJson, image.layers.length);
  const layers = image.info.layers.map((layer, i) => ({ ...layer, createdBy: origins[i] }));
  const base = { id: image.info.id, architecture: AMD64.architecture, ref: repoTags[0]!, warnings, layers };

  if (isPlatformReady(file, image)) {
    return {
      ...base,
      path: file.path,
      converted: false,
      bytes: file.size,
      verify: (signal) => verifyLayers(file.path, image.layers, signal),
    };
  }
  const path = join(options.scratchDir, "image.tar");
  await writeDockerArchive(file.path, image, repoTags, path, options).catch((error: unknown) => {
    throw writeFailure(path, error);
  });
  // The rewrite is ours, but check it the way an archive from elsewhere is checked.
  const written = await inspectImageTarFile(path);
  const rewritten = written.layout.images[0];
  if (!rewritten || !isPlatformReady(written, rewritten)) throw new Error(`the rewritten image archive ${path} is not a plain docker-archive`);
  // Sizes after decompression: what the zip will hold.
  const sizes = rewritten.info.layers.map((l) => l.size);
  return { ...base, path, converted: true, bytes: written.size, layers: layers.map((l, i) => ({ ...l, size: sizes[i] ?? l.size })) };
}

/** The linux/amd64 image of the archive, or why there is none. */
export function selectImage(file: ImageTarFile): ResolvedImage {
  const { images, report } = file.layout;
  if (images.length === 0) {
    const reasons = report.problems.filter((p) => p.severity === "error").map((p) => p.message);
    throw new ImageRejectedError(`${file.path} holds no usable image: ${reasons.join(" ") || "it is empty"}`, {
      hint: "Pass a file written by `docker save -o image.tar <image>` or `podman save -o image.tar <image>`.",
    });
  }
  const isAmd64 = (i: ResolvedImage) => i.info.os === AMD64.os && i.info.architecture === AMD64.architecture;
  let amd64 = images.filter(isAmd64);
  if (amd64.length === 0) amd64 = file.layout.alternatives.filter(isAmd64);
  if (amd64.length === 0) {
    const platforms = [...new Set(images.map((i) => `${i.info.os ?? "unknown"}/${i.info.architecture ?? "unknown"}`))].join(", ");
    throw new ImageRejectedError(`The image is built for ${platforms}; Cumulocity runs only linux/amd64 images.`, { hint: REBUILD_HINT });
  }
  if (amd64.length > 1) {
    const names = amd64.map((i) => i.info.repoTags[0] ?? i.info.id.slice(0, 19)).join(", ");
    throw new ImageRejectedError(`${file.path} holds ${amd64.length} linux/amd64 images (${names}); the platform takes one.`, {
      hint: "Save only the service's image: `docker save -o image.tar <name>:<version>`.",
    });
  }
  const image = amd64[0]!;
  const error = image.problems.find((p) => p.severity === "error");
  if (error) throw new ImageRejectedError(error.message, { hint: error.rule === "image-layer-compression" ? "Rebuild the image with gzip or no layer compression." : DAMAGED_HINT });
  return image;
}

/** What Docker up to 24 writes and every platform version reads: nothing to rewrite. */
export function isPlatformReady(file: ImageTarFile, image: ResolvedImage): boolean {
  return (
    file.layout.report.format === "docker-archive" &&
    file.layout.images.length === 1 &&
    image.configName.endsWith(".json") &&
    image.info.repoTags.length > 0 &&
    image.layers.every((l) => l.compression === "none") &&
    !image.problems.some((p) => p.severity === "error")
  );
}

async function writeDockerArchive(source: string, image: ResolvedImage, repoTags: string[], target: string, options: PrepareOptions): Promise<void> {
  const configName = `${image.info.id.slice("sha256:".length)}.json`;
  const layerName = (layer: ResolvedLayer) => `${layer.diffId!.slice("sha256:".length)}/layer.tar`;
  const handle = await open(target, "w");
  try {
    const tar = new TarFileWriter(handle);
    // manifest.json first: readers that stream the archive learn its layout before the layers.
    await tar.addFile("manifest.json", Buffer.from(JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: image.layers.map(layerName) }])));
    await tar.addFile(configName, image.config);
    const written = new Set<string>();
    for (const layer of image.layers) {
      if (written.has(layer.diffId!)) continue;
      written.add(layer.diffId!);
      await tar.addStream(layerName(layer), checkedLayer(source, layer, options.signal, options.onProgress));
    }
    await tar.end();
  } finally {
    await handle.close();
  }
}

/** A layer's uncompressed data, checked against its stored digest and its diff id as it streams. */
async function* checkedLayer(path: string, layer: ResolvedLayer, signal: AbortSignal, onProgress?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const stored = createHash("sha256");
  const content = layer.compression === "none" ? stored : createHash("sha256");
  const raw = rangeStream(path, layer);
  const tap = new HashTap(stored, onProgress);
  let output: Readable;
  if (layer.compression === "gzip") {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    output = pipeline(raw, tap, gunzip, () => {});
  } else {
    output = pipeline(raw, tap, () => {});
  }
  try {
    for await (const chunk of output as AsyncIterable<Buffer>) {
      if (signal.aborted) throw new CancelledError();
      if (content !== stored) content.update(chunk);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    throw new ImageRejectedError(`The layer ${layer.name} cannot be read: ${(error as Error).message}.`, { hint: DAMAGED_HINT, cause: error });
  } finally {
    output.destroy();
  }
  const storedDigest = `sha256:${stored.digest("hex")}`;
  const contentDigest = content === stored ? storedDigest : `sha256:${content.digest("hex")}`;
  if ((layer.digest && layer.digest !== storedDigest) || contentDigest !== layer.diffId) {
    throw new ImageRejectedError(`The layer ${layer.name} does not match its digest ${layer.digest ?? layer.diffId}: the archive is damaged.`, { hint: DAMAGED_HINT });
  }
}

/** For an archive used as it is: each layer's bytes against its diff id, without holding them. */
async function verifyLayers(path: string, layers: ResolvedLayer[], signal: AbortSignal): Promise<void> {
  const handle = await open(path, "r");
  try {
    const seen = new Set<string>();
    for (const layer of layers) {
      if (seen.has(layer.entry.name)) continue;
      seen.add(layer.entry.name);
      const hash = createHash("sha256");
      await scanRange(handle, layer.entry.dataOffset, layer.entry.size, (piece) => hash.update(piece), signal).catch((error: unknown) => {
        throw signal.aborted ? new CancelledError() : error;
      });
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== layer.diffId) {
        throw new ImageRejectedError(`The layer ${layer.name} does not match its digest ${layer.diffId}: the archive is damaged.`, { hint: DAMAGED_HINT });
      }
    }
  } finally {
    await handle.close();
  }
}

function rangeStream(path: string, layer: ResolvedLayer): Readable {
  const { dataOffset, size } = layer.entry;
  if (size === 0) return Readable.from([]);
  return createReadStream(path, { start: dataOffset, end: dataOffset + size - 1, highWaterMark: 1024 * 1024 });
}

/** Hashes what passes and reports its size. */
class HashTap extends Transform {
  constructor(
    private readonly hash: Hash,
    private readonly onProgress?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.onProgress?.(chunk.length);
    callback(null, chunk);
  }
}
