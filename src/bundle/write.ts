import { writeZip, type ZipWriteOptions, type ZipResult } from "../archive/zip-writer.js";
import { IMAGE_ENTRY, MANIFEST_ENTRY } from "./limits.js";

/** The zip `pack` writes: cumulocity.json, then image.tar, at its root and nothing else (platform.md §2). */
export function writeBundle(output: string, manifest: Buffer, imagePath: string, options: ZipWriteOptions): Promise<ZipResult> {
  return writeZip(output, [{ name: MANIFEST_ENTRY, data: manifest }, { name: IMAGE_ENTRY, path: imagePath }], options);
}
