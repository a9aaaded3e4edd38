import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CHUNK_BYTES, type ChunkReuse } from "../archive/parallel-deflate.js";
import { commitTemp, discardTemp, tempPathFor } from "../fs/atomic.js";

/**
 * The deflated chunks of an archive's base-layer prefix, kept beside the blobs: packing the
 * next build on the same base compresses only what changed (the application layer, the
 * config). Each file holds the CRC-32 of the entry up to the chunk's end and the sha256 of its
 * own bytes, both checked before it is used; a file that fails is compressed again.
 */
export function chunkCache(dir: string, prefix: { id: string; bytes: number }): ChunkReuse {
  const root = join(dir, "deflate");
  const pathOf = (index: number, level: number, last: boolean) =>
    join(root, createHash("sha256").update(`${prefix.id}\0${CHUNK_BYTES}\0${index}\0${level}\0${last}`).digest("hex"));
  let made = false;
  return {
    prefixBytes: prefix.bytes,
    async load(index, level, last) {
      const file = await readFile(pathOf(index, level, last)).catch(() => undefined);
      if (!file || file.length < 36) return undefined;
      const data = file.subarray(36);
      if (!createHash("sha256").update(data).digest().equals(file.subarray(4, 36))) return undefined;
      return { crc32: file.readUInt32LE(0), data };
    },
    async save(index, level, last, data, crc32) {
      if (!made) {
        await mkdir(root, { recursive: true });
        made = true;
      }
      const target = pathOf(index, level, last);
      const header = Buffer.alloc(36);
      header.writeUInt32LE(crc32 >>> 0, 0);
      createHash("sha256").update(data).digest().copy(header, 4);
      const temp = tempPathFor(target);
      try {
        await writeFile(temp, Buffer.concat([header, data]));
        await commitTemp(temp, target);
      } catch (error) {
        await discardTemp(temp);
        throw error;
      }
    },
  };
}
