import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { TarFileWriter } from "../archive/tar-writer.js";
import type { BlobCache } from "./blob-cache.js";
import { sha256 } from "./blob-cache.js";
import type { ImageConfig } from "./image-config.js";
import type { WrittenLayer } from "./layer.js";

/**
 * Writes the image as the docker-archive Docker up to 24 saves and every platform version
 * loads (platform.md §2): `<diff id>/layer.tar` uncompressed, the config as `<id>.json`, then
 * manifest.json with one image and its tag. Base layers come first and in their order, so an
 * archive on the same base starts with the same bytes.
 */
export interface ArchivedImage {
  path: string;
  id: string;
  bytes: number;
  /** The archive's first `bytes` are the base layers, the same for every image on that base: `id` names them. */
  basePrefix: { id: string; bytes: number };
}

export async function writeDockerArchive(target: string, config: ImageConfig, tag: string, cache: BlobCache, appLayer: (WrittenLayer & { cached?: boolean }) | undefined, signal: AbortSignal): Promise<ArchivedImage> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = `sha256:${sha256(configBytes)}`;
  const configName = `${id.slice("sha256:".length)}.json`;
  const layers: string[] = [];
  let basePrefix: ArchivedImage["basePrefix"] | undefined;
  const handle = await open(target, "w");
  try {
    const tar = new TarFileWriter(handle);
    const written = new Set<string>();
    const baseIds: string[] = [];
    for (const diffId of config.rootfs.diff_ids) {
      if (appLayer?.diffId === diffId) basePrefix ??= { id: prefixId(baseIds), bytes: tar.bytes };
      else baseIds.push(diffId);
      const name = `${diffId.slice("sha256:".length)}/layer.tar`;
      layers.push(name);
      if (written.has(diffId)) continue;
      written.add(diffId);
      // A layer written by this build is read from where it was written, anything else from the cache.
      const fresh = appLayer?.diffId === diffId && !appLayer.cached;
      await tar.addStream(name, fresh ? (createReadStream(appLayer.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) : cache.readVerified(diffId, signal));
    }
    basePrefix ??= { id: prefixId(baseIds), bytes: tar.bytes };
    await tar.addFile(configName, configBytes);
    await tar.addFile("manifest.json", Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layers }])));
    await tar.end();
  } finally {
    await handle.close();
  }
  return { path: target, id, bytes: (await stat(target)).size, basePrefix: basePrefix! };
}

/** Headers and data of the base layers follow from their diff ids (names, sizes, verified bytes). */
function prefixId(diffIds: string[]): string {
  return `sha256:${sha256(Buffer.from(`c8y-ms docker-archive 1\0${diffIds.join("\0")}`))}`;
}
