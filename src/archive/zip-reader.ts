import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import { ValidationError } from "../errors.js";
import { readAt } from "./positional.js";
import {
  CENTRAL_HEADER_SIZE,
  END_SIZE,
  END64_LOCATOR_SIZE,
  EXTRA_ZIP64,
  FLAG_ENCRYPTED,
  LOCAL_HEADER_SIZE,
  MAX16,
  MAX32,
  METHOD_DEFLATED,
  METHOD_STORED,
  SIG_CENTRAL,
  SIG_END,
  SIG_END64,
  SIG_END64_LOCATOR,
  SIG_LOCAL,
} from "./zip-format.js";

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  crc32: number;
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
  localHeaderOffset: number;
}

/** The central directory of any real upload is tiny; a bigger one is damage or a zip bomb. */
const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;
const MAX_COMMENT = MAX16;

/**
 * Opens a zip for random access: reads the end record (ZIP64 aware) and the central
 * directory; entry data is streamed on demand, so memory does not depend on the zip's size.
 * @throws {ZipFormatError} when the file is not a readable zip
 */
export async function openZip(path: string): Promise<ZipReader> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const fail = (reason: string) => invalidZip(path, reason);
    const directory = await readDirectoryLocation(handle, size, fail);
    const entries = parseCentralDirectory(await readAt(handle, directory.offset, directory.size), directory.count, fail);
    for (const entry of entries) {
      if (entry.localHeaderOffset + LOCAL_HEADER_SIZE > directory.offset) throw fail(`the entry ${entry.name} points outside the archive`);
    }
    return {
      entries: entries.map(({ name, size: entrySize, compressedSize, method, crc32: crc }) => ({ name, size: entrySize, compressedSize, method, crc32: crc })),
      openEntry: async (name) => {
        const entry = entries.find((e) => e.name === name);
        if (!entry) throw new ZipFormatError(`${path} has no entry named ${name}.`);
        return openStoredEntry(handle, path, entry, directory.offset, fail);
      },
      storedRange: async (name) => {
        const entry = entries.find((e) => e.name === name);
        if (!entry) throw new ZipFormatError(`${path} has no entry named ${name}.`);
        if (entry.method !== METHOD_STORED || entry.flags & FLAG_ENCRYPTED) return undefined;
        if (entry.compressedSize !== entry.size) throw fail(`${entry.name} is stored, but its sizes differ (${entry.compressedSize} and ${entry.size} bytes)`);
        return { offset: await dataStartOf(handle, entry, directory.offset, fail), size: entry.size };
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

interface DirectoryLocation {
  offset: number;
  size: number;
  count: number;
}

async function readDirectoryLocation(handle: FileHandle, size: number, fail: (reason: string) => Error): Promise<DirectoryLocation> {
  if (size < END_SIZE) throw fail("it is too short");
  const tailSize = Math.min(size, END_SIZE + MAX_COMMENT + END64_LOCATOR_SIZE);
  const tailStart = size - tailSize;
  const tail = await readAt(handle, tailStart, tailSize);
  let end = -1;
  for (let i = tail.length - END_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_END && i + END_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      end = i;
      break;
    }
  }
  if (end < 0) throw fail("no end of central directory record was found");
  let count = tail.readUInt16LE(end + 10);
  let directorySize = tail.readUInt32LE(end + 12);
  let offset = tail.readUInt32LE(end + 16);

  const locator = end - END64_LOCATOR_SIZE;
  if (locator >= 0 && tail.readUInt32LE(locator) === SIG_END64_LOCATOR) {
    const end64Offset = readUInt64(tail, locator + 8, fail);
    const end64 = await readAt(handle, end64Offset, 56);
    if (end64.length < 56 || end64.readUInt32LE(0) !== SIG_END64) throw fail("the ZIP64 end record is missing");
    count = readUInt64(end64, 32, fail);
    directorySize = readUInt64(end64, 40, fail);
    offset = readUInt64(end64, 48, fail);
  } else if (count === MAX16 || directorySize === MAX32 || offset === MAX32) {
    throw fail("the ZIP64 end record locator is missing");
  }
  const endOffset = tailStart + end;
  if (offset + directorySize > endOffset) throw fail("the central directory lies outside the file");
  if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES) throw fail(`its central directory is implausibly large (${directorySize} bytes)`);
  return { offset, size: directorySize, count };
}

function parseCentralDirectory(buffer: Buffer, count: number, fail: (reason: string) => Error): StoredEntry[] {
  const entries: StoredEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_HEADER_SIZE > buffer.length || buffer.readUInt32LE(at) !== SIG_CENTRAL) throw fail("the central directory is damaged");
    const flags = buffer.readUInt16LE(at + 8);
    const method = buffer.readUInt16LE(at + 10);
    const crc = buffer.readUInt32LE(at + 16);
    let compressedSize = buffer.readUInt32LE(at + 20);
    let size = buffer.readUInt32LE(at + 24);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    let localHeaderOffset = buffer.readUInt32LE(at + 42);
    const nameStart = at + CENTRAL_HEADER_SIZE;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > buffer.length) throw fail("the central directory is damaged");
    const name = buffer.toString("utf8", nameStart, extraStart);

    // ZIP64 values appear in the extra field only for the 32-bit fields that overflowed, in this order.
    const zip64 = findExtra(buffer.subarray(extraStart, extraStart + extraLength), EXTRA_ZIP64);
    if (size === MAX32 || compressedSize === MAX32 || localHeaderOffset === MAX32) {
      if (!zip64) throw fail(`the entry ${name} lacks its ZIP64 sizes`);
      let field = 0;
      const take = () => {
        const value = readUInt64(zip64, field, fail);
        field += 8;
        return value;
      };
      if (size === MAX32) size = take();
      if (compressedSize === MAX32) compressedSize = take();
      if (localHeaderOffset === MAX32) localHeaderOffset = take();
    }
    entries.push({ name, size, compressedSize, method, crc32: crc, flags, localHeaderOffset });
    at = next;
  }
  return entries;
}

async function openStoredEntry(handle: FileHandle, path: string, entry: StoredEntry, directoryOffset: number, fail: (reason: string) => Error): Promise<Readable> {
  if (entry.flags & FLAG_ENCRYPTED) throw fail(`${entry.name} is encrypted`);
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) throw fail(`${entry.name} uses compression method ${entry.method}; only stored and deflated entries are readable`);
  const dataStart = await dataStartOf(handle, entry, directoryOffset, fail);

  const raw = entry.compressedSize === 0 ? Readable.from([]) : createReadStream(path, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
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

/** Where the entry's data begins: after its local header, whose name and extra field may differ from the central directory's. */
async function dataStartOf(handle: FileHandle, entry: StoredEntry, directoryOffset: number, fail: (reason: string) => Error): Promise<number> {
  const header = await readAt(handle, entry.localHeaderOffset, LOCAL_HEADER_SIZE);
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== SIG_LOCAL) throw fail(`the local header of ${entry.name} is missing`);
  const dataStart = entry.localHeaderOffset + LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (dataStart + entry.compressedSize > directoryOffset) throw fail(`the data of ${entry.name} runs past the central directory`);
  return dataStart;
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

function findExtra(extra: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const fieldId = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (fieldId === id) return extra.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  return undefined;
}

function readUInt64(buffer: Buffer, at: number, fail: (reason: string) => Error): number {
  if (at + 8 > buffer.length) throw fail("a ZIP64 field is cut short");
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("a ZIP64 field is out of range");
  return Number(value);
}
