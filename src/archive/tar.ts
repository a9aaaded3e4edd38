import { ValidationError } from "../errors.js";
import type { ByteSource } from "./byte-source.js";

/**
 * Reads the tar dialects container engines write (POSIX ustar with pax extended headers, GNU
 * long names and base-256 sizes) header by header from a ByteSource.
 */
export const TAR_BLOCK = 512;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  name: string;
  type: TarEntryType;
  /** Bytes of data that follow the header (0 for directories and links). */
  size: number;
  linkName: string;
  /** Where the entry's data starts in the archive. */
  dataOffset: number;
}

export interface TarEntryCursor extends TarEntry {
  /** Reads the entry's data; call it before the iteration moves on, and only for small entries. */
  readContent(): Promise<Buffer>;
  /** Streams the entry's data in pieces; call it (once) before the iteration moves on. */
  readChunks(chunkSize?: number): AsyncGenerator<Buffer>;
}

export class TarFormatError extends ValidationError {
  override readonly code = "TAR_INVALID";
}

/** pax and GNU extension records carry names and sizes; anything bigger is not a real archive. */
const MAX_EXTENSION_BYTES = 1024 * 1024;

/**
 * The entries of a tar archive in order. Data the consumer does not read is skipped, so a
 * file source never reads layer contents and a stream source holds one block at a time.
 * `origin` is where the archive starts in its source (a tar inside a zip): messages count from there.
 * @throws {TarFormatError} on a damaged header or an archive that ends in the middle of an entry
 */
export async function* readTarEntries(source: ByteSource, label = "the archive", origin = 0): AsyncGenerator<TarEntryCursor> {
  let extension: { path?: string; linkpath?: string; size?: number } = {};
  for (;;) {
    const block = await source.read(TAR_BLOCK);
    // No end marker at all is tolerated (some writers stop after the last entry).
    if (block.length === 0) return;
    if (block.length < TAR_BLOCK) throw new TarFormatError(`${label} ends inside a tar header.`, { hint: DAMAGED_HINT });
    if (isZeroBlock(block)) return;
    const where = `${label} (at byte ${source.position - TAR_BLOCK - origin})`;
    const header = parseHeader(block, where);

    if ("xgLK".includes(header.typeflag)) {
      if (header.size > MAX_EXTENSION_BYTES) throw new TarFormatError(`${label} has an oversized tar extension header.`, { hint: DAMAGED_HINT });
      const payload = await readExactly(source, header.size, label);
      await source.skip(paddingOf(header.size));
      if (header.typeflag === "x") extension = { ...extension, ...paxFields(payload, where) };
      else if (header.typeflag === "L") extension.path = cString(payload);
      else if (header.typeflag === "K") extension.linkpath = cString(payload);
      // "g" (global pax) sets defaults such as times and owners, none of which matter here.
      continue;
    }

    const type = entryType(header.typeflag);
    const size = type === "file" || type === "other" ? (extension.size ?? header.size) : 0;
    const entry: TarEntry = {
      name: extension.path ?? header.name,
      type,
      size,
      linkName: extension.linkpath ?? header.linkName,
      dataOffset: source.position,
    };
    extension = {};
    let consumed = 0;
    yield {
      ...entry,
      readContent: async () => {
        const content = await readExactly(source, size - consumed, label);
        consumed += content.length;
        return content;
      },
      async *readChunks(chunkSize = 256 * 1024) {
        while (consumed < size) {
          const chunk = await source.readSome(Math.min(chunkSize, size - consumed));
          if (chunk.length === 0) throw new TarFormatError(`${label} is truncated.`, { hint: DAMAGED_HINT });
          consumed += chunk.length;
          yield chunk;
        }
      },
    };
    const before = source.position;
    await source.skip(size - consumed + paddingOf(size));
    if (source.position - before < size - consumed) throw new TarFormatError(`${label} is truncated: ${entry.name} is cut short.`, { hint: DAMAGED_HINT });
  }
}

const DAMAGED_HINT = "Save the image again (docker save / podman save); the file is incomplete or damaged.";

interface RawHeader {
  name: string;
  size: number;
  typeflag: string;
  linkName: string;
}

function parseHeader(block: Buffer, label: string): RawHeader {
  const stored = parseNumber(block.subarray(148, 156), label, "checksum");
  let sum = 8 * 0x20;
  for (let i = 0; i < TAR_BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
  if (stored !== sum) throw new TarFormatError(`${label} is not a tar archive: a header checksum does not match.`, { hint: DAMAGED_HINT });
  const ustar = block.toString("latin1", 257, 263) === "ustar\0";
  const name = cString(block.subarray(0, 100));
  const prefix = ustar ? cString(block.subarray(345, 500)) : "";
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: parseNumber(block.subarray(124, 136), label, "size"),
    typeflag: String.fromCharCode(block[156]! || 0x30),
    linkName: cString(block.subarray(157, 257)),
  };
}

function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case "0":
    case "7":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "5":
      return "directory";
    default:
      return "other";
  }
}

/**
 * Octal text, or GNU base-256 when the first byte is 0x80 (sizes of 8 GiB and more). Anything
 * else (a negative base-256 value, digits 8 and 9, letters, a size past 2^53) is damage: a
 * size that is not a whole number of bytes would misplace every header after it.
 */
function parseNumber(field: Buffer, label: string, what: string): number {
  let value: number;
  if (field[0] === 0x80) {
    value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
  } else {
    const text = field.toString("latin1").replace(/[\0 ]+$/g, "").replace(/^ +/, "");
    value = /^[0-7]*$/.test(text) ? (text === "" ? 0 : parseInt(text, 8)) : Number.NaN;
  }
  if (!Number.isSafeInteger(value)) throw new TarFormatError(`${label} is not a tar archive: a header's ${what} is not a number.`, { hint: DAMAGED_HINT });
  return value;
}

type PaxFields = { path?: string; linkpath?: string; size?: number };

/** Records of `<length> <key>=<value>\n` (POSIX pax); the length counts the whole record. */
function paxFields(payload: Buffer, label: string): PaxFields {
  const damaged = (why: string) => new TarFormatError(`${label} has a damaged pax header: ${why}.`, { hint: DAMAGED_HINT });
  const fields: PaxFields = {};
  let at = 0;
  while (at < payload.length) {
    // Writers pad the payload with NULs.
    if (payload[at] === 0) break;
    const space = payload.indexOf(0x20, at);
    const lengthText = space < 0 ? "" : payload.toString("latin1", at, space);
    const length = /^[1-9]\d{0,7}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    if (Number.isNaN(length) || at + length > payload.length || payload[at + length - 1] !== 0x0a) throw damaged("a record's length does not fit");
    const record = payload.toString("utf8", space + 1, at + length - 1);
    const equals = record.indexOf("=");
    if (equals <= 0) throw damaged("a record has no key");
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === "path") fields.path = value;
    else if (key === "linkpath") fields.linkpath = value;
    else if (key === "size") {
      // "1.5", "-1", "NaN", "1e3", "0x10": a size is a decimal count of bytes, or the archive cannot be walked.
      if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw damaged(`the size ${JSON.stringify(value.slice(0, 40))} is not a whole number of bytes`);
      fields.size = Number(value);
    }
    at += length;
  }
  return fields;
}

async function readExactly(source: ByteSource, length: number, label: string): Promise<Buffer> {
  const data = await source.read(length);
  if (data.length < length) throw new TarFormatError(`${label} is truncated.`, { hint: DAMAGED_HINT });
  return data;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.toString("utf8", 0, end < 0 ? bytes.length : end);
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

export function paddingOf(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}
