import type { FileHandle } from "node:fs/promises";
import { writeFully } from "./positional.js";
import { paddingOf, TAR_BLOCK } from "./tar.js";

/**
 * Writes plain ustar archives (a pax header only for names over 100 bytes) with owner root
 * (unless an entry names another) and time 0, so equal input gives equal bytes. Go's
 * archive/tar (Docker) and GNU tar read them.
 */
export interface TarHeaderSpec {
  name: string;
  size: number;
  type?: "file" | "directory" | "symlink";
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * TAR_BLOCK);

const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * The header block(s) for one entry: time 0, so equal input gives equal bytes. Names and link
 * targets longer than their 100-byte fields get a pax header in front.
 */
export function tarHeader(spec: TarHeaderSpec): Buffer {
  const nameBytes = Buffer.from(spec.name, "utf8");
  const linkBytes = Buffer.from(spec.linkName ?? "", "utf8");
  const blocks: Buffer[] = [];
  const records: Buffer[] = [];
  if (nameBytes.length > 100) records.push(paxRecord("path", spec.name));
  if (linkBytes.length > 100) records.push(paxRecord("linkpath", spec.linkName!));
  if (records.length > 0) {
    const record = Buffer.concat(records);
    blocks.push(ustarBlock({ name: "PaxHeader", size: record.length, typeflag: "x", mode: 0o644 }), record, Buffer.alloc(paddingOf(record.length)));
  }
  const type = spec.type ?? "file";
  blocks.push(
    ustarBlock({
      name: nameBytes.length > 100 ? nameBytes.subarray(0, 100).toString("latin1") : spec.name,
      size: type === "file" ? spec.size : 0,
      typeflag: { file: "0", symlink: "2", directory: "5" }[type],
      linkName: linkBytes.length > 100 ? linkBytes.subarray(0, 100).toString("latin1") : (spec.linkName ?? ""),
      mode: spec.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: spec.uid ?? 0,
      gid: spec.gid ?? 0,
    }),
  );
  return Buffer.concat(blocks);
}

function ustarBlock(fields: { name: string; size: number; typeflag: string; mode: number; linkName?: string; uid?: number; gid?: number }): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(fields.name, 0, 100, "utf8");
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, fields.uid ?? 0);
  writeOctal(block, 116, 8, fields.gid ?? 0);
  if (fields.size > MAX_OCTAL_SIZE) {
    // GNU base-256: Go's archive/tar (Docker) and GNU tar read it.
    block[124] = 0x80;
    let value = fields.size;
    for (let i = 135; i > 124; i--) {
      block[i] = value % 256;
      value = Math.floor(value / 256);
    }
  } else {
    writeOctal(block, 124, 12, fields.size);
  }
  writeOctal(block, 136, 12, 0);
  block.write(fields.typeflag, 156, 1, "latin1");
  if (fields.linkName) block.write(fields.linkName, 157, 100, "utf8");
  block.write("ustar\0", 257, 6, "latin1");
  block.write("00", 263, 2, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return block;
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, "0")}\0`, offset, width, "latin1");
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (Buffer.byteLength(`${length}${body}`) !== length) length++;
  return Buffer.from(`${length}${body}`, "utf8");
}

/**
 * A tar written to a file at known offsets, so an entry whose size is known only at its end
 * (a layer being decompressed) gets its header patched afterwards instead of being buffered.
 */
export class TarFileWriter {
  private offset = 0;

  constructor(private readonly handle: FileHandle) {}

  get bytes(): number {
    return this.offset;
  }

  async addFile(name: string, data: Buffer): Promise<void> {
    await this.append(tarHeader({ name, size: data.length }));
    await this.append(data);
    await this.append(Buffer.alloc(paddingOf(data.length)));
  }

  async addDirectory(name: string): Promise<void> {
    await this.append(tarHeader({ name: name.endsWith("/") ? name : `${name}/`, size: 0, type: "directory" }));
  }

  /** Streams an entry of unknown size; returns its size. */
  async addStream(name: string, chunks: AsyncIterable<Buffer>): Promise<number> {
    const headerOffset = this.offset;
    const placeholder = tarHeader({ name, size: 0 });
    await this.append(placeholder);
    let size = 0;
    for await (const chunk of chunks) {
      await this.append(chunk);
      size += chunk.length;
    }
    await this.append(Buffer.alloc(paddingOf(size)));
    const header = tarHeader({ name, size });
    if (header.length !== placeholder.length) throw new Error(`tar header of ${name} changed length`);
    await writeFully(this.handle, header, headerOffset);
    return size;
  }

  async end(): Promise<void> {
    await this.append(TAR_END);
  }

  private async append(data: Buffer): Promise<void> {
    await writeFully(this.handle, data, this.offset);
    this.offset += data.length;
  }
}
