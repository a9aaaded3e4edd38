import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { ValidationError } from "../errors.js";
import { withAtomicFile } from "../fs/atomic.js";
import { CHUNK_BYTES, compressEntry, type ChunkReuse, type EntryInput } from "./parallel-deflate.js";
import { writeFully } from "./positional.js";
import {
  CENTRAL_HEADER_SIZE,
  END_SIZE,
  END64_LOCATOR_SIZE,
  END64_SIZE,
  EXTRA_ZIP64,
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
  VERSION_DEFLATE,
  VERSION_ZIP64,
} from "./zip-format.js";

export interface ZipSource {
  name: string;
  path?: string;
  data?: Uint8Array;
  /** Compressed chunks of an earlier run to use where the data is the same. */
  reuse?: ChunkReuse;
}

export interface ZipWriteOptions {
  /** 0 stores, 1 (fastest) to 9 (smallest) deflate. */
  level: number;
  /** Uncompressed bytes done, as they are done. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** Stop with ZipTooLargeError as soon as the zip grows past this many bytes. */
  limitBytes?: number;
  /** Runs after the zip is complete and before it is renamed into place; throwing discards it. */
  beforeCommit?: () => Promise<void>;
}

export interface ZipResult {
  bytes: number;
  sha256: string;
}

/** The zip outgrew `limitBytes`: writing stopped there and nothing was kept. */
export class ZipTooLargeError extends ValidationError {
  override readonly code = "ZIP_TOO_LARGE";
  constructor(
    readonly written: number,
    readonly limit: number,
  ) {
    super(`The zip grew past ${limit} bytes.`);
  }
}

/** 1980-01-01 00:00, the first moment a zip can name: fixed so equal input gives equal bytes. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** Made by UNIX; a regular file, rw-r--r--. */
const MADE_BY_UNIX = 3 << 8;
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;

interface CentralRecord {
  name: Buffer;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/**
 * Writes a zip of `sources`, in their order, streaming: memory does not grow with their size.
 * Deflate runs on every core (see parallel-deflate.ts); sizes past 4 GiB use ZIP64. Each
 * local header is written first and patched with CRC and sizes once known, so readers that
 * stream (Java's ZipInputStream) find them there, with no data descriptors. The file appears
 * at `target` complete or not at all.
 */
export async function writeZip(target: string, sources: ZipSource[], options: ZipWriteOptions): Promise<ZipResult> {
  return withAtomicFile(target, async (temp) => {
    const out = await open(temp, "w");
    let bytes: number;
    try {
      bytes = await writeEntries(out, sources, options);
    } finally {
      await out.close();
    }
    const sha256 = await hashFile(temp);
    await options.beforeCommit?.();
    return { bytes, sha256 };
  });
}

async function writeEntries(out: FileHandle, sources: ZipSource[], options: ZipWriteOptions): Promise<number> {
  let offset = 0;
  const write = async (chunk: Buffer) => {
    await writeFully(out, chunk, offset);
    offset += chunk.length;
    if (options.limitBytes !== undefined && offset > options.limitBytes) throw new ZipTooLargeError(offset, options.limitBytes);
  };
  const records: CentralRecord[] = [];
  for (const source of sources) {
    const input = await openInput(source);
    try {
      const method = options.level === 0 ? METHOD_STORED : METHOD_DEFLATED;
      const record: CentralRecord = { name: Buffer.from(source.name, "utf8"), method, flags: deflateFlags(options.level), crc32: 0, compressedSize: 0, size: input.size, offset };
      const zip64 = mayNeedZip64(input.size, method);
      await write(localHeader(record, zip64));
      const { crc32, compressedSize } = await compressEntry(input, { level: options.level, write, onProgress: options.onProgress, signal: options.signal, reuse: source.reuse });
      record.crc32 = crc32;
      record.compressedSize = compressedSize;
      await writeFully(out, localHeader(record, zip64), record.offset);
      records.push(record);
    } finally {
      await input.handle?.close();
    }
  }
  await write(centralDirectory(records, offset));
  return offset;
}

async function openInput(source: ZipSource): Promise<EntryInput> {
  if (source.data) return { data: source.data, size: source.data.length };
  if (!source.path) throw new Error(`zip source ${source.name} has neither path nor data`);
  const handle = await open(source.path, "r");
  return { handle, size: (await handle.stat()).size };
}

/**
 * Decided before the data is written, from the worst case: deflate can grow incompressible
 * input by about 1/4096 plus a few bytes per flushed chunk.
 */
function mayNeedZip64(size: number, method: number): boolean {
  const worst = method === METHOD_STORED ? size : size + Math.ceil(size / 4096) + Math.ceil(size / 16384) + 16 * Math.ceil(size / CHUNK_BYTES) + 64;
  return worst >= MAX32;
}

/** Bits 1-2 tell readers how hard deflate worked, as Info-ZIP sets them (`zipinfo`: defF/defN/defX). */
function deflateFlags(level: number): number {
  if (level === 0) return 0;
  if (level >= 8) return 0x2;
  return level <= 2 ? 0x4 : 0;
}

function localHeader(record: CentralRecord, zip64: boolean): Buffer {
  const extra = zip64 ? zip64Extra([record.size, record.compressedSize]) : Buffer.alloc(0);
  const header = Buffer.alloc(LOCAL_HEADER_SIZE);
  header.writeUInt32LE(SIG_LOCAL, 0);
  header.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFLATE, 4);
  header.writeUInt16LE(record.flags, 6);
  header.writeUInt16LE(record.method, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  header.writeUInt32LE(record.crc32, 14);
  header.writeUInt32LE(zip64 ? MAX32 : record.compressedSize, 18);
  header.writeUInt32LE(zip64 ? MAX32 : record.size, 22);
  header.writeUInt16LE(record.name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, record.name, extra]);
}

function centralDirectory(records: CentralRecord[], start: number): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    // ZIP64 extra: only the fields that overflow, in the order size, compressed size, offset.
    const wide = [record.size, record.compressedSize, record.offset].filter((v) => v >= MAX32);
    const extra = wide.length ? zip64Extra(wide) : Buffer.alloc(0);
    const version = wide.length ? VERSION_ZIP64 : VERSION_DEFLATE;
    const header = Buffer.alloc(CENTRAL_HEADER_SIZE);
    header.writeUInt32LE(SIG_CENTRAL, 0);
    header.writeUInt16LE(MADE_BY_UNIX | version, 4);
    header.writeUInt16LE(version, 6);
    header.writeUInt16LE(record.flags, 8);
    header.writeUInt16LE(record.method, 10);
    header.writeUInt16LE(DOS_TIME, 12);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(record.crc32, 16);
    header.writeUInt32LE(Math.min(record.compressedSize, MAX32), 20);
    header.writeUInt32LE(Math.min(record.size, MAX32), 24);
    header.writeUInt16LE(record.name.length, 28);
    header.writeUInt16LE(extra.length, 30);
    header.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
    header.writeUInt32LE(Math.min(record.offset, MAX32), 42);
    parts.push(header, record.name, extra);
  }
  const directorySize = parts.reduce((sum, p) => sum + p.length, 0);
  const end = Buffer.alloc(END_SIZE);
  const zip64 = records.length >= MAX16 || directorySize >= MAX32 || start >= MAX32;
  if (zip64) {
    const end64 = Buffer.alloc(END64_SIZE);
    end64.writeUInt32LE(SIG_END64, 0);
    end64.writeBigUInt64LE(BigInt(END64_SIZE - 12), 4);
    end64.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
    end64.writeUInt16LE(VERSION_ZIP64, 14);
    end64.writeBigUInt64LE(BigInt(records.length), 24);
    end64.writeBigUInt64LE(BigInt(records.length), 32);
    end64.writeBigUInt64LE(BigInt(directorySize), 40);
    end64.writeBigUInt64LE(BigInt(start), 48);
    const locator = Buffer.alloc(END64_LOCATOR_SIZE);
    locator.writeUInt32LE(SIG_END64_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(start + directorySize), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(end64, locator);
  }
  end.writeUInt32LE(SIG_END, 0);
  end.writeUInt16LE(Math.min(records.length, MAX16), 8);
  end.writeUInt16LE(Math.min(records.length, MAX16), 10);
  end.writeUInt32LE(Math.min(directorySize, MAX32), 12);
  end.writeUInt32LE(Math.min(start, MAX32), 16);
  parts.push(end);
  return Buffer.concat(parts);
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(EXTRA_ZIP64, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return extra;
}

/** sha256 of the finished file: the patched headers make hashing while writing impossible. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}
