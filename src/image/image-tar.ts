import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import { fileSource, streamSource, type ByteSource } from "../archive/byte-source.js";
import { readAt, scanRange } from "../archive/positional.js";
import { readTarEntries, TarFormatError } from "../archive/tar.js";
import { catalogKey, resolveImageLayout, sniffCompression, type Catalog, type CatalogEntry, type ImageLayout, type ImageTarReport } from "./image-layout.js";

export type { ImageInfo, ImageProblem, ImageTarReport } from "./image-layout.js";

/** Manifests, indexes and configs are small; a bigger "JSON" file is a layer that happens to start with `{`. */
const JSON_LIMIT = 4 * 1024 * 1024;
/** What a catalog may keep in memory in all, whatever the archive holds. */
const KEPT_LIMIT = 64 * 1024 * 1024;

/**
 * One streaming pass over a `docker save` / `podman save` tar (for instance straight out of
 * an uploaded zip): every entry is hashed as it passes, small JSON files are kept, layers are
 * not, so memory stays bounded whatever the image's size.
 */
export async function inspectImageTar(stream: Readable): Promise<ImageTarReport> {
  try {
    return resolveImageLayout(await catalogFromStream(stream)).report;
  } catch (error) {
    if (!(error instanceof TarFormatError)) throw error;
    return { format: "docker-archive", images: [], problems: [{ rule: "image-format", severity: "error", message: error.message }] };
  } finally {
    stream.destroy();
  }
}

async function catalogFromStream(stream: Readable): Promise<Catalog> {
  const catalog: Catalog = new Map();
  const budget = { kept: 0 };
  for await (const entry of readTarEntries(streamSource(stream), "image.tar")) {
    const record: CatalogEntry = { name: entry.name, type: entry.type, size: entry.size, linkName: entry.linkName, dataOffset: entry.dataOffset };
    if (entry.type === "file") {
      const hash = createHash("sha256");
      const kept: Buffer[] = [];
      let keep = entry.size <= JSON_LIMIT && budget.kept + entry.size <= KEPT_LIMIT;
      // The first four bytes say what the entry is, as in inspectImageTarFile; chunks may be shorter.
      let head = Buffer.alloc(0);
      for await (const chunk of entry.readChunks()) {
        hash.update(chunk);
        if (head.length < 4) {
          head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
          if (head.length === Math.min(4, entry.size)) keep &&= looksLikeJson(head);
        }
        if (keep) kept.push(chunk);
      }
      record.compression = sniffCompression(head);
      record.sha256 = hash.digest("hex");
      if (keep) {
        record.content = Buffer.concat(kept);
        budget.kept += entry.size;
      }
    }
    catalog.set(catalogKey(entry.name), record);
  }
  return catalog;
}

export interface ImageTarFile {
  path: string;
  size: number;
  catalog: Catalog;
  layout: ImageLayout;
}

/**
 * The same inspection for a tar on disk, reading only headers and small files (positional
 * reads skip the layers), so a multi-GB archive is indexed in moments. Digests are not
 * checked here: `verifyImageTarFile` does that, while the zip is written.
 */
export async function inspectImageTarFile(path: string): Promise<ImageTarFile> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const compression = sniffCompression(await readAt(handle, 0, Math.min(size, 4)));
    if (compression !== "none") {
      // `docker save | gzip`: an archive is read in place, which a compressed stream cannot be.
      throw new TarFormatError(`${path} is ${compression}-compressed; c8y-ms reads the image archive itself.`, {
        hint: compression === "gzip" ? `Decompress it first (gunzip -k ${path}), or save without compressing: docker save -o image.tar <image>.` : `Decompress it first (zstd -d ${path}), or save without compressing: docker save -o image.tar <image>.`,
      });
    }
    const catalog = await catalogInPlace(handle, { offset: 0, size }, path);
    return { path, size, catalog, layout: resolveImageLayout(catalog) };
  } finally {
    await handle.close();
  }
}

/** A tar that lies at `range` of a file: headers and small JSON files read in place, layers skipped. */
async function catalogInPlace(handle: FileHandle, range: ByteRange, label: string): Promise<Catalog> {
  const end = range.offset + range.size;
  const catalog: Catalog = new Map();
  let kept = 0;
  for await (const entry of readTarEntries(fileSource(handle, range.offset, end), label, range.offset)) {
    if (entry.dataOffset + entry.size > end) throw new TarFormatError(`${label} is truncated: ${entry.name} is cut short.`, { hint: "Save the image again; the file is incomplete." });
    const record: CatalogEntry = { name: entry.name, type: entry.type, size: entry.size, linkName: entry.linkName, dataOffset: entry.dataOffset };
    if (entry.type === "file") {
      const head = await readAt(handle, entry.dataOffset, Math.min(entry.size, 4));
      record.compression = sniffCompression(head);
      if (entry.size <= JSON_LIMIT && kept + entry.size <= KEPT_LIMIT && looksLikeJson(head)) {
        record.content = await entry.readContent();
        kept += entry.size;
      }
    }
    catalog.set(catalogKey(entry.name), record);
  }
  return catalog;
}

export interface ByteRange {
  offset: number;
  size: number;
}

/**
 * The inspection of inspectImageTar for a tar stored uncompressed inside another file (image.tar
 * in a stored zip entry). Headers are read in place; then one sequential pass (scanRange, one
 * reused buffer) hashes every entry and takes the CRC-32 of the whole.
 */
export async function inspectStoredImageTar(path: string, range: ByteRange): Promise<{ report: ImageTarReport; crc32: number }> {
  const handle = await open(path, "r");
  try {
    let catalog: Catalog;
    try {
      catalog = await catalogInPlace(handle, range, "image.tar");
    } catch (error) {
      if (!(error instanceof TarFormatError)) throw error;
      return { report: { format: "docker-archive", images: [], problems: [{ rule: "image-format", severity: "error", message: error.message }] }, crc32: await hashInOnePass(handle, range, []) };
    }
    const crc = await hashInOnePass(handle, range, [...catalog.values()].filter((r) => r.type === "file"));
    return { report: resolveImageLayout(catalog).report, crc32: crc };
  } finally {
    await handle.close();
  }
}

/**
 * Sets `sha256` on each file record (tar entries do not overlap) and returns the CRC-32 of the
 * range. A file that ends early gives a CRC-32 the zip's directory does not have, which is how
 * the caller learns of it.
 */
async function hashInOnePass(handle: FileHandle, range: ByteRange, files: CatalogEntry[]): Promise<number> {
  const ordered = [...files].sort((a, b) => a.dataOffset - b.dataOffset);
  const hashes = ordered.map(() => createHash("sha256"));
  let crc = 0;
  let next = 0;
  await scanRange(handle, range.offset, range.size, (piece, at) => {
    const until = at + piece.length;
    crc = crc32(piece, crc);
    for (let i = next; i < ordered.length && ordered[i]!.dataOffset < until; i++) {
      const file = ordered[i]!;
      const from = Math.max(file.dataOffset, at);
      const to = Math.min(file.dataOffset + file.size, until);
      if (to > from) hashes[i]!.update(piece.subarray(from - at, to - at));
    }
    while (next < ordered.length && ordered[next]!.dataOffset + ordered[next]!.size <= until) next++;
  });
  ordered.forEach((file, i) => (file.sha256 = hashes[i]!.digest("hex")));
  return crc >>> 0;
}

function looksLikeJson(head: Buffer): boolean {
  for (const byte of head) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b || byte === 0x5b;
  }
  return head.length === 0;
}
