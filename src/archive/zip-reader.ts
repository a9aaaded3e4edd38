import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import { ValidationError } from "../errors.js";
import { readDirectory, type DirectoryEntry } from "./zip-directory.js";
import { FLAG_ENCRYPTED, METHOD_DEFLATED, METHOD_STORED } from "./zip-format.js";
import { checkLayout } from "./zip-layout.js";

export type ZipEntryType = "file" | "directory" | "symlink";

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  crc32: number;
  /** From the Unix mode in the external attributes (or a trailing `/`): unzip makes a link of a symlink entry. */
  type: ZipEntryType;
}

export interface ZipReader {
  entries: ZipEntry[];
  /** The entry's content, inflated, checked against its size and CRC-32 as it streams. */
  openEntry(name: string): Promise<Readable>;
  /**
   * Where a stored (uncompressed) entry's bytes lie in the zip file, for reading them in
   * place; undefined for a deflated entry. The caller checks the CRC-32.
   */
  storedRange(name: string): Promise<{ offset: number; size: number } | undefined>;
  close(): Promise<void>;
}

/** Not a zip, a damaged one, or one using features the platform does not read (encryption, other methods). */
export class ZipFormatError extends ValidationError {
  override readonly code = "ZIP_INVALID";
}

/** `path` is not a zip the platform can read, for `reason`. */
export function invalidZip(path: string, reason: string): ZipFormatError {
  return new ZipFormatError(`${path} is not a valid zip: ${reason}.`, { hint: "Pack it again with `c8y-ms pack`, or check that the download or copy was complete." });
}

interface StoredEntry extends ZipEntry {
  flags: number;
  dataStart: number;
}

/**
 * Opens a zip for random access: reads the end records (ZIP64 aware) and the central
 * directory, and checks that every local header agrees with them (zip-directory.ts,
 * zip-layout.ts); entry data is streamed on demand, so memory does not depend on the zip's size.
 * @throws {ZipFormatError} when the file is not a readable zip, or one readers would disagree about
 */
export async function openZip(path: string): Promise<ZipReader> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const fail = (reason: string) => invalidZip(path, reason);
    const directory = await readDirectory(handle, size, fail);
    const dataStarts = await checkLayout(handle, directory, fail);
    const entries: StoredEntry[] = directory.entries.map((entry, i) => ({
      name: entry.name,
      size: entry.size,
      compressedSize: entry.compressedSize,
      method: entry.method,
      crc32: entry.crc32,
      type: entryType(entry),
      flags: entry.flags,
      dataStart: dataStarts[i]!,
    }));
    // The first of a name, as the directory lists them; duplicates are the caller's to refuse.
    const byName = new Map<string, StoredEntry>();
    for (const entry of entries) if (!byName.has(entry.name)) byName.set(entry.name, entry);
    const find = (name: string) => {
      const entry = byName.get(name);
      if (!entry) throw new ZipFormatError(`${path} has no entry named ${name}.`);
      return entry;
    };
    return {
      entries: entries.map(({ flags: _flags, dataStart: _dataStart, ...entry }) => entry),
      openEntry: async (name) => openStoredEntry(path, find(name), fail),
      storedRange: async (name) => {
        const entry = find(name);
        if (entry.method !== METHOD_STORED || entry.flags & FLAG_ENCRYPTED) return undefined;
        if (entry.compressedSize !== entry.size) throw fail(`${entry.name} is stored, but its sizes differ (${entry.compressedSize} and ${entry.size} bytes)`);
        return { offset: entry.dataStart, size: entry.size };
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MADE_BY_UNIX = 3;
const DOS_DIRECTORY = 0x10;

function entryType(entry: DirectoryEntry): ZipEntryType {
  const mode = entry.madeBy === MADE_BY_UNIX ? entry.externalAttributes >>> 16 : 0;
  if ((mode & S_IFMT) === S_IFLNK) return "symlink";
  if ((mode & S_IFMT) === S_IFDIR || entry.externalAttributes & DOS_DIRECTORY || entry.name.endsWith("/")) return "directory";
  return "file";
}

function openStoredEntry(path: string, entry: StoredEntry, fail: (reason: string) => Error): Readable {
  if (entry.flags & FLAG_ENCRYPTED) throw fail(`${entry.name} is encrypted`);
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) throw fail(`${entry.name} uses compression method ${entry.method}; only stored and deflated entries are readable`);
  const raw = entry.compressedSize === 0 ? Readable.from([]) : createReadStream(path, { start: entry.dataStart, end: entry.dataStart + entry.compressedSize - 1 });
  const check = new EntryCheck(entry, fail);
  // Errors reach the consumer through `check`; the callbacks only keep pipeline from throwing.
  if (entry.method === METHOD_STORED) {
    pipeline(raw, check, () => {});
  } else {
    const inflate = createInflateRaw();
    // Registered before pipeline's own listener, so the consumer sees what is wrong, not zlib's words.
    inflate.once("error", (error) => check.destroy(fail(`${entry.name} is damaged (${error.message})`)));
    pipeline(raw, inflate, check, () => {});
  }
  return check;
}

/** Passes data through and fails the stream when its size or CRC-32 differ from the directory. */
class EntryCheck extends Transform {
  private crc = 0;
  private bytes = 0;

  constructor(
    private readonly entry: ZipEntry,
    private readonly fail: (reason: string) => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    if (this.bytes > this.entry.size) return callback(this.fail(`${this.entry.name} is longer than its recorded size`));
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.entry.size) return callback(this.fail(`${this.entry.name} is truncated (${this.bytes} of ${this.entry.size} bytes)`));
    if (this.crc >>> 0 !== this.entry.crc32 >>> 0) return callback(this.fail(`${this.entry.name} is damaged (CRC-32 mismatch)`));
    callback();
  }
}
