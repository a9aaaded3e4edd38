import type { FileHandle } from "node:fs/promises";
import { readAt } from "./positional.js";
import {
  CENTRAL_HEADER_SIZE,
  END_SIZE,
  END64_LOCATOR_SIZE,
  END64_SIZE,
  EXTRA_ZIP64,
  MAX16,
  MAX32,
  SIG_CENTRAL,
  SIG_END,
  SIG_END64,
  SIG_END64_LOCATOR,
} from "./zip-format.js";

/**
 * The end records and the central directory of a zip (APPNOTE 6.3 §4.3.6, §4.3.12-16,
 * §4.5.3), read strictly: every count, size and offset must agree with every other, because
 * where they disagree, two readers see two different archives (the platform one, our check
 * the other). Each disagreement is refused with what it is.
 */
export interface DirectoryEntry {
  name: string;
  /** The name as written, to compare with the local header's byte for byte. */
  nameBytes: Buffer;
  size: number;
  compressedSize: number;
  method: number;
  crc32: number;
  flags: number;
  localHeaderOffset: number;
  /** Upper byte of "version made by": 3 is Unix, whose mode sits in the high 16 bits of the external attributes. */
  madeBy: number;
  externalAttributes: number;
}

export interface Directory {
  entries: DirectoryEntry[];
  /** Where the central directory starts: every entry's data lies before it. */
  offset: number;
}

/** The central directory of any real upload is tiny; a bigger one is damage or a zip bomb. */
const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;

type Fail = (reason: string) => Error;

export async function readDirectory(handle: FileHandle, size: number, fail: Fail): Promise<Directory> {
  const location = await readDirectoryLocation(handle, size, fail);
  const entries = parseCentralDirectory(await readAt(handle, location.offset, location.size), location.count, fail);
  return { entries, offset: location.offset };
}

interface DirectoryLocation {
  offset: number;
  size: number;
  count: number;
}

async function readDirectoryLocation(handle: FileHandle, size: number, fail: Fail): Promise<DirectoryLocation> {
  if (size < END_SIZE) throw fail("it is too short");
  const tailSize = Math.min(size, END_SIZE + MAX16 + END64_LOCATOR_SIZE + END64_SIZE);
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
  // A second end record, in the comment or before it: readers that search from the front, or
  // skip comments, find another archive than readers that search from the back.
  if (tail.subarray(end + END_SIZE).includes(END_SIGNATURE) || anotherEndRecord(tail, end)) throw fail("it has two end-of-central-directory records");
  if (tail.readUInt16LE(end + 4) !== 0 || tail.readUInt16LE(end + 6) !== 0) throw fail("it claims to span several disks");
  const count16 = tail.readUInt16LE(end + 10);
  if (tail.readUInt16LE(end + 8) !== count16) throw fail("its end record counts the entries twice, differently");
  const size32 = tail.readUInt32LE(end + 12);
  const offset32 = tail.readUInt32LE(end + 16);
  const endOffset = tailStart + end;

  const locator = end - END64_LOCATOR_SIZE;
  if (locator < 0 || tail.readUInt32LE(locator) !== SIG_END64_LOCATOR) {
    if (count16 === MAX16 || size32 === MAX32 || offset32 === MAX32) throw fail("the ZIP64 end record locator is missing");
    return checkedLocation({ offset: offset32, size: size32, count: count16 }, endOffset, fail);
  }
  if (tail.readUInt32LE(locator + 4) !== 0 || tail.readUInt32LE(locator + 16) !== 1) throw fail("its ZIP64 end record locator claims several disks");
  const end64Offset = readUInt64(tail, locator + 8, fail);
  if (end64Offset + END64_SIZE !== tailStart + locator) throw fail("the ZIP64 end record is not where its locator says");
  const end64 = await readAt(handle, end64Offset, END64_SIZE);
  if (end64.length < END64_SIZE || end64.readUInt32LE(0) !== SIG_END64) throw fail("the ZIP64 end record is missing");
  if (readUInt64(end64, 4, fail) !== END64_SIZE - 12) throw fail("the ZIP64 end record has an unexpected size");
  if (end64.readUInt32LE(16) !== 0 || end64.readUInt32LE(20) !== 0) throw fail("its ZIP64 end record claims several disks");
  const count = readUInt64(end64, 32, fail);
  if (readUInt64(end64, 24, fail) !== count) throw fail("its ZIP64 end record counts the entries twice, differently");
  const location = { offset: readUInt64(end64, 48, fail), size: readUInt64(end64, 40, fail), count };
  // Where the 32-bit record does not defer to ZIP64 (0xFFFF...), both must say the same.
  if ((count16 !== MAX16 && count16 !== count) || (size32 !== MAX32 && size32 !== location.size) || (offset32 !== MAX32 && offset32 !== location.offset)) {
    throw fail("its ZIP64 end record and its end record disagree");
  }
  return checkedLocation(location, end64Offset, fail);
}

const END_SIGNATURE = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/** An end record before `end` whose comment also reaches the end of the file. */
function anotherEndRecord(tail: Buffer, end: number): boolean {
  for (let i = end - 1; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_END && i + END_SIZE <= tail.length && i + END_SIZE + tail.readUInt16LE(i + 20) === tail.length) return true;
  }
  return false;
}

/** The directory ends exactly where the end records begin: nothing hides between them. */
function checkedLocation(location: DirectoryLocation, endRecords: number, fail: Fail): DirectoryLocation {
  if (location.offset + location.size > endRecords) throw fail("the central directory lies outside the file");
  if (location.offset + location.size < endRecords) throw fail(`${endRecords - location.offset - location.size} bytes lie between the central directory and its end record`);
  if (location.size > MAX_CENTRAL_DIRECTORY_BYTES) throw fail(`its central directory is implausibly large (${location.size} bytes)`);
  return location;
}

function parseCentralDirectory(buffer: Buffer, count: number, fail: Fail): DirectoryEntry[] {
  const entries: DirectoryEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_HEADER_SIZE > buffer.length || buffer.readUInt32LE(at) !== SIG_CENTRAL) throw fail("the central directory is damaged");
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const nameStart = at + CENTRAL_HEADER_SIZE;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > buffer.length) throw fail("the central directory is damaged");
    const name = buffer.toString("utf8", nameStart, extraStart);
    if (buffer.readUInt16LE(at + 34) !== 0 && buffer.readUInt16LE(at + 34) !== MAX16) throw fail(`the entry ${name} lies on another disk`);
    const wide = zip64Fields(
      name,
      { size: buffer.readUInt32LE(at + 24), compressedSize: buffer.readUInt32LE(at + 20), localHeaderOffset: buffer.readUInt32LE(at + 42) },
      findExtra(buffer.subarray(extraStart, extraStart + extraLength), EXTRA_ZIP64),
      fail,
    );
    entries.push({
      name,
      nameBytes: Buffer.from(buffer.subarray(nameStart, extraStart)),
      ...wide,
      method: buffer.readUInt16LE(at + 10),
      crc32: buffer.readUInt32LE(at + 16),
      flags: buffer.readUInt16LE(at + 8),
      madeBy: buffer.readUInt8(at + 5),
      externalAttributes: buffer.readUInt32LE(at + 38),
    });
    at = next;
  }
  if (at !== buffer.length) throw fail(`the central directory holds more than the ${count} entries its end record counts`);
  return entries;
}

interface WideFields {
  size: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/**
 * The ZIP64 extra field holds, in this order, the 64-bit value of each 32-bit field that is
 * 0xFFFFFFFF (APPNOTE §4.5.3); Info-ZIP, Java, Go and Python all read it that way and ignore
 * it for fields that did not overflow, so we do too.
 */
export function zip64Fields(name: string, fields: WideFields, extra: Buffer | undefined, fail: Fail): WideFields {
  const overflowed = (["size", "compressedSize", "localHeaderOffset"] as const).filter((key) => fields[key] === MAX32);
  if (overflowed.length === 0) return fields;
  if (!extra) throw fail(`the entry ${name} lacks its ZIP64 sizes`);
  const result = { ...fields };
  overflowed.forEach((key, i) => (result[key] = readUInt64(extra, 8 * i, fail)));
  return result;
}

export function findExtra(extra: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const fieldId = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (fieldId === id) return extra.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  return undefined;
}

export function readUInt64(buffer: Buffer, at: number, fail: Fail): number {
  if (at + 8 > buffer.length) throw fail("a ZIP64 field is cut short");
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("a ZIP64 field is out of range");
  return Number(value);
}
