import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterEach, beforeEach, expect, test } from "vitest";
import { CHUNK_BYTES, compressEntry } from "../archive/parallel-deflate.js";
import { chunkCache } from "./chunk-cache.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "c8y-ms-chunks-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Three and a half chunks of half-compressible data: the first three are the "base". */
const input = Buffer.concat([randomBytes(CHUNK_BYTES), Buffer.alloc(CHUNK_BYTES, 7), randomBytes(CHUNK_BYTES / 2), Buffer.alloc(CHUNK_BYTES, 3), randomBytes(CHUNK_BYTES / 2)]);

/** Buffers compared whole: element-wise comparison of megabytes is slow. */
const same = (a: Buffer, b: Buffer) => expect(a.equals(b)).toBe(true);

async function deflate(data: Buffer, reuse?: ReturnType<typeof chunkCache>): Promise<{ bytes: Buffer; crc32: number }> {
  const parts: Buffer[] = [];
  const result = await compressEntry({ data, size: data.length }, { level: 6, write: async (chunk) => void parts.push(Buffer.from(chunk)), reuse });
  return { bytes: Buffer.concat(parts), crc32: result.crc32 };
}

test("kept chunks give the bytes a fresh compression gives, and only the prefix is kept", async () => {
  const plain = await deflate(input);
  const prefix = { id: "sha256:base", bytes: 3 * CHUNK_BYTES };
  const first = await deflate(input, chunkCache(dir, prefix));
  same(first.bytes, plain.bytes);
  expect(first.crc32).toBe(plain.crc32);
  expect(await readdir(join(dir, "deflate"))).toHaveLength(3);
  const second = await deflate(input, chunkCache(dir, prefix));
  same(second.bytes, plain.bytes);
  same(inflateRawSync(second.bytes), input);
});

test("a kept chunk is not used for other bytes, nor when its own bytes are damaged", async () => {
  const prefix = { id: "sha256:base", bytes: 3 * CHUNK_BYTES };
  await deflate(input, chunkCache(dir, prefix));
  // Same name, other content: the CRC-32 of what is read now tells.
  const other = Buffer.from(input);
  other[10] = other[10]! ^ 0xff;
  same(inflateRawSync((await deflate(other, chunkCache(dir, prefix))).bytes), other);
  // A damaged file fails its own sha256 and is compressed again.
  for (const name of await readdir(join(dir, "deflate"))) {
    const path = join(dir, "deflate", name);
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
    await writeFile(path, bytes);
  }
  same(inflateRawSync((await deflate(input, chunkCache(dir, prefix))).bytes), input);
});
