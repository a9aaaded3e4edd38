import type { FileHandle } from "node:fs/promises";
import { readAt } from "./positional.js";
import { findExtra, readUInt64, zip64Fields, type Directory, type DirectoryEntry } from "./zip-directory.js";
import { EXTRA_ZIP64, FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, LOCAL_HEADER_SIZE, METHOD_STORED, SIG_LOCAL } from "./zip-format.js";

/**
 * A zip is read two ways: from its central directory (Java's ZipFile, Info-ZIP, c8y-ms) or
 * front to back through its local headers (Java's ZipInputStream, streaming unzippers). An
 * archive built to look different each way (an entry hidden between others, a local header
 * that names another file, entries that share their bytes, as zip bombs do) passes one check
 * and means something else to the other reader. So the layout must be the one both see:
 * entries back to back from byte 0 to the central directory, each local header agreeing with
 * its directory record. Linear in the number of entries.
 */
type Fail = (reason: string) => Error;

const SIG_DATA_DESCRIPTOR = 0x08074b50;
/** Local headers are read through one window: back-to-back small entries cost one read per window. */
const WINDOW_BYTES = 64 * 1024;

/** Where each entry's data starts, by its index in the directory. */
export async function checkLayout(handle: FileHandle, directory: Directory, fail: Fail): Promise<number[]> {
  const { entries } = directory;
  const order = entries.map((_, i) => i).sort((a, b) => entries[a]!.localHeaderOffset - entries[b]!.localHeaderOffset);
  const window = new ReadWindow(handle);
  const dataStarts: number[] = new Array<number>(entries.length);
  let expected = 0;
  let previous: DirectoryEntry | undefined;
  for (const index of order) {
    const entry = entries[index]!;
    if (entry.localHeaderOffset < expected) {
      throw fail(previous ? `the entries ${previous.name} and ${entry.name} share bytes (a zip bomb's trick)` : `the entry ${entry.name} points outside the archive`);
    }
    if (entry.localHeaderOffset > expected) {
      const gap = entry.localHeaderOffset - expected;
      throw fail(previous ? `${gap} bytes between ${previous.name} and ${entry.name} belong to no entry` : `${gap} bytes before the first entry belong to no entry`);
    }
    const { dataStart, end } = await checkLocalHeader(window, entry, directory.offset, fail);
    dataStarts[index] = dataStart;
    expected = end;
    previous = entry;
  }
  if (expected !== directory.offset) {
    throw fail(expected > directory.offset ? "the last entry runs into the central directory" : `${directory.offset - expected} bytes before the central directory belong to no entry`);
  }
  return dataStarts;
}

/** The local header agrees with the directory record; returns where the data starts and where the entry (with its descriptor) ends. */
async function checkLocalHeader(window: ReadWindow, entry: DirectoryEntry, directoryOffset: number, fail: Fail): Promise<{ dataStart: number; end: number }> {
  const at = entry.localHeaderOffset;
  const header = await window.read(at, LOCAL_HEADER_SIZE);
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== SIG_LOCAL) throw fail(`the local header of ${entry.name} is missing`);
  const flags = header.readUInt16LE(6);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const variable = await window.read(at + LOCAL_HEADER_SIZE, nameLength + extraLength);
  if (variable.length < nameLength + extraLength) throw fail(`the local header of ${entry.name} is cut short`);
  const disagrees = (what: string) => fail(`the local header of ${entry.name} ${what} than its central directory record`);
  if (!variable.subarray(0, nameLength).equals(entry.nameBytes)) throw fail(`the local header of ${entry.name} names another file (${variable.toString("utf8", 0, nameLength)})`);
  if (header.readUInt16LE(8) !== entry.method) throw disagrees("gives another compression method");
  if ((flags & (FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR)) !== (entry.flags & (FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR))) throw disagrees("has other flags");
  const extra = findExtra(variable.subarray(nameLength), EXTRA_ZIP64);
  const dataStart = at + LOCAL_HEADER_SIZE + nameLength + extraLength;
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > directoryOffset) throw fail(`the data of ${entry.name} runs past the central directory`);

  if (!(flags & FLAG_DATA_DESCRIPTOR)) {
    const local = zip64Fields(entry.name, { size: header.readUInt32LE(22), compressedSize: header.readUInt32LE(18), localHeaderOffset: 0 }, extra, fail);
    if (header.readUInt32LE(14) !== entry.crc32 || local.size !== entry.size || local.compressedSize !== entry.compressedSize) throw disagrees("gives other sizes or another CRC-32");
    return { dataStart, end: dataEnd };
  }
  // OpenJDK's ZipInputStream.readLOC: "only DEFLATED entries can have EXT descriptor".
  if (entry.method === METHOD_STORED) throw fail(`${entry.name} is stored with a data descriptor, which Java's ZipInputStream cannot read`);
  const wide = extra !== undefined || entry.size >= 0xffffffff || entry.compressedSize >= 0xffffffff;
  const probe = await window.read(dataEnd, 4);
  const signed = probe.length === 4 && probe.readUInt32LE(0) === SIG_DATA_DESCRIPTOR;
  const descriptor = await window.read(dataEnd + (signed ? 4 : 0), wide ? 20 : 12);
  if (descriptor.length < (wide ? 20 : 12)) throw fail(`the data descriptor of ${entry.name} is cut short`);
  const sizes = wide ? [readUInt64(descriptor, 4, fail), readUInt64(descriptor, 12, fail)] : [descriptor.readUInt32LE(4), descriptor.readUInt32LE(8)];
  if (descriptor.readUInt32LE(0) !== entry.crc32 || sizes[0] !== entry.compressedSize || sizes[1] !== entry.size) {
    throw fail(`the data descriptor of ${entry.name} gives other sizes or another CRC-32 than its central directory record`);
  }
  return { dataStart, end: dataEnd + (signed ? 4 : 0) + descriptor.length };
}

class ReadWindow {
  #start = 0;
  #bytes: Buffer = Buffer.alloc(0);

  constructor(private readonly handle: FileHandle) {}

  async read(position: number, length: number): Promise<Buffer> {
    if (position < this.#start || position + length > this.#start + this.#bytes.length) {
      this.#start = position;
      this.#bytes = await readAt(this.handle, position, Math.max(length, WINDOW_BYTES));
    }
    const from = position - this.#start;
    return this.#bytes.subarray(from, Math.min(from + length, this.#bytes.length));
  }
}
