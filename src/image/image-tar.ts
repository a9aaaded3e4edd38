import { createHash } from "node:crypto";
import { posix } from "node:path";
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import { fileSource, streamSource, type ByteSource } from "../archive/byte-source.js";
import { readAt, scanRange } from "../archive/positional.js";
import { readTarEntries, TarFormatError } from "../archive/tar.js";
import { catalogKey, escapes, sniffCompression, type Catalog, type CatalogEntry } from "./catalog.js";
import { resolveImageLayout, type ImageLayout, type ImageTarReport } from "./image-layout.js";

export type { ImageInfo, ImageProblem, ImageTarReport } from "./image-layout.js";

/** Manifests, indexes and configs are small; a bigger "JSON" file is a layer that happens to start with `{`. */
const JSON_LIMIT = 4 * 1024 * 1024;
/** What a catalog may keep in memory in all, whatever the archive holds. */
const KEPT_LIMIT = 64 * 1024 * 1024;
/** A saved image has a few entries per layer, and an image at most 127 layers (overlayfs); more is not an image. */
export const MAX_TAR_ENTRIES = 65_536;
/** Padding after the end marker: writers fill the last 10 KiB record; more is something hidden after the archive. */
const TRAILING_LIMIT = 1024 * 1024;

/**
 * One streaming pass over a `docker save` / `podman save` tar (for instance straight out of
 * an uploaded zip): every entry is hashed as it passes, small JSON files are kept, layers are
 * not, so memory stays bounded whatever the image's size.
 */
export async function inspectImageTar(stream: Readable, signal?: AbortSignal): Promise<ImageTarReport> {
  const source = streamSource(stream);
  try {
    let catalog: Catalog;
    try {
      catalog = await catalogFromStream(source, signal);
    } catch (error) {
      if (!(error instanceof TarFormatError)) throw error;
      // To the entry's last byte all the same (the zip check caps its size): the stream checks
      // the CRC-32 only at its end, and a damaged entry is news of its own.
      await drain(source, signal, Number.POSITIVE_INFINITY);
      return tarProblem(error);
    }
    try {
      await drain(source, signal, TRAILING_LIMIT);
    } catch (error) {
      if (!(error instanceof TarFormatError)) throw error;
      return tarProblem(error);
    }
    return resolveImageLayout(catalog).report;
  } finally {
    stream.destroy();
  }
}

function tarProblem(error: TarFormatError): ImageTarReport {
  return { format: "docker-archive", images: [], problems: [{ rule: "image-format", severity: "error", message: error.message }] };
}

/** What follows the tar: read (and so checked against the zip's size and CRC-32), or past `limit`, refused. */
async function drain(source: ByteSource, signal: AbortSignal | undefined, limit: number): Promise<void> {
  let trailing = 0;
  for (;;) {
    signal?.throwIfAborted();
    const piece = await source.readSome(256 * 1024);
    if (piece.length === 0) return;
    trailing += piece.length;
    if (trailing > limit) throw trailingData("image.tar");
  }
}

function trailingData(label: string): TarFormatError {
  return new TarFormatError(`${label} has more than ${TRAILING_LIMIT} bytes after the end of the tar archive; a saved image ends with its end marker.`, { hint: REBUILD_ARCHIVE_HINT });
}

const REBUILD_ARCHIVE_HINT = "Save the image again (docker save / podman save) and pack it with `c8y-ms pack`.";

async function catalogFromStream(source: ByteSource, signal: AbortSignal | undefined): Promise<Catalog> {
  const catalog: Catalog = new Map();
  const budget = { kept: 0 };
  for await (const entry of readTarEntries(source, "image.tar")) {
    signal?.throwIfAborted();
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
    addToCatalog(catalog, record, "image.tar");
  }
  return catalog;
}

/**
 * Every entry passes here, whichever way the archive is read. Refused: names and links that
 * climb out of the folder the archive unpacks into (Docker's loader refuses them too, with
 * "breakout"), the same file twice (which copy counts differs between readers), and more
 * entries than any image has.
 */
function addToCatalog(catalog: Catalog, record: CatalogEntry, label: string): void {
  const refuse = (why: string) => new TarFormatError(`${label} is not a safe image archive: ${why}.`, { hint: REBUILD_ARCHIVE_HINT });
  if (escapes(record.name)) throw refuse(`the entry ${JSON.stringify(record.name)} points outside the archive`);
  if (record.type === "symlink" && (record.linkName.startsWith("/") || escapes(posix.join(posix.dirname(record.name), record.linkName)))) {
    throw refuse(`the link ${JSON.stringify(record.name)} points outside the archive (to ${JSON.stringify(record.linkName)})`);
  }
  if (record.type === "hardlink" && escapes(record.linkName)) throw refuse(`the hard link ${JSON.stringify(record.name)} points outside the archive (to ${JSON.stringify(record.linkName)})`);
  const key = catalogKey(record.name);
  const earlier = catalog.get(key);
  if (earlier && !(earlier.type === "directory" && record.type === "directory")) throw refuse(`it holds ${JSON.stringify(record.name)} twice`);
  if (catalog.size >= MAX_TAR_ENTRIES) throw refuse(`it holds more than ${MAX_TAR_ENTRIES} entries; a saved image has a few per layer`);
  catalog.set(key, record);
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
async function catalogInPlace(handle: FileHandle, range: ByteRange, label: string, signal?: AbortSignal): Promise<Catalog> {
  const end = range.offset + range.size;
  const catalog: Catalog = new Map();
  let kept = 0;
  const source = fileSource(handle, range.offset, end);
  for await (const entry of readTarEntries(source, label, range.offset)) {
    signal?.throwIfAborted();
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
    addToCatalog(catalog, record, label);
  }
  if (end - source.position > TRAILING_LIMIT) throw trailingData(label);
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
export async function inspectStoredImageTar(path: string, range: ByteRange, signal?: AbortSignal): Promise<{ report: ImageTarReport; crc32: number }> {
  const handle = await open(path, "r");
  try {
    let catalog: Catalog;
    try {
      catalog = await catalogInPlace(handle, range, "image.tar", signal);
    } catch (error) {
      if (!(error instanceof TarFormatError)) throw error;
      return { report: tarProblem(error), crc32: await hashInOnePass(handle, range, [], signal) };
    }
    const crc = await hashInOnePass(handle, range, [...catalog.values()].filter((r) => r.type === "file"), signal);
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
async function hashInOnePass(handle: FileHandle, range: ByteRange, files: CatalogEntry[], signal?: AbortSignal): Promise<number> {
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
  }, signal);
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
