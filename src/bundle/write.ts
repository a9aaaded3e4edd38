import type { ChunkReuse } from "../archive/parallel-deflate.js";
import { writeZip, type ZipWriteOptions, type ZipResult } from "../archive/zip-writer.js";
import { IMAGE_ENTRY, MANIFEST_ENTRY } from "./limits.js";

/** The image archive to zip, and the compressed chunks an earlier pack left for its unchanged part. */
export interface BundleImage {
  path: string;
  reuse?: ChunkReuse | undefined;
}

/** The zip `pack` writes: cumulocity.json, then image.tar, at its root and nothing else (platform.md §2). */
export function writeBundle(output: string, manifest: Buffer, image: BundleImage, options: ZipWriteOptions): Promise<ZipResult> {
  return writeZip(output, [{ name: MANIFEST_ENTRY, data: manifest }, { name: IMAGE_ENTRY, path: image.path, ...(image.reuse ? { reuse: image.reuse } : {}) }], options);
}
