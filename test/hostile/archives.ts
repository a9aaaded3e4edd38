import { open } from "node:fs/promises";
import { crc32, deflateRawSync } from "node:zlib";
import { dockerArchive, imageConfig, layerTar, sha256Hex, syntheticImage, tarBuffer, type TarFile } from "../helpers/images.js";
import { VALID_MANIFEST } from "../helpers/manifest.js";

/**
 * The hostile archive corpus (issue 18), generated in code: zips and image tars that are
 * truncated, corrupt, ambiguous, bombs or escape attempts. Each case names the rule it must be
 * refused by, so the tests can run every case through `checkBundleFile` in-process and a sample
 * through `validate`, `pack --image-tar` and `deploy`. Nothing here is a committed blob.
 */
export interface HostileArchive {
  name: string;
  /** A zip to validate or deploy, or an image tar (given to pack --image-tar, and inside a zip to validate). */
  kind: "zip" | "image-tar";
  /** The error rule `validate` must report (for an image tar: when it is inside a valid zip). */
  rule: string;
  /** Part of the message that says what is wrong. */
  says: RegExp;
  /** Writes the archive at `path` (big ones stream or leave holes, so the corpus costs little disk). */
  write(path: string): Promise<void>;
}

export const MANIFEST_BYTES = Buffer.from(JSON.stringify({ ...VALID_MANIFEST, name: "hostile-svc" }));
export const IMAGE_BYTES = dockerArchive(syntheticImage(), ["hostile-svc:1.0.0"]);

// ---------------------------------------------------------------------------------------------
// A zip writer with every field in reach. `zipParts` lays entries out the way pack does; the
// cases then bend one field, one offset or one record.

export interface RawEntry {
  name: string;
  data: Buffer;
  method?: 0 | 8;
  /** Written into the headers instead of the data's own (a CRC mismatch). */
  crc?: number;
  /** A declared uncompressed size other than the data's (a bomb's claim). */
  size?: number;
  /** Unix mode for the external attributes (symlinks, directories). */
  mode?: number;
  flags?: number;
  /** The local header's name, when it should differ from the directory's. */
  localName?: string;
  localMethod?: number;
  localSize?: number;
}

interface Laid {
  entry: RawEntry;
  compressedSize: number;
  offset: number;
  crc: number;
  size: number;
}

export interface ZipOptions {
  /** Bytes before the first entry (a self-extractor's stub, or another archive). */
  prefix?: Buffer;
  /** Bytes between two entries that no directory record names. */
  hidden?: { after: number; bytes: Buffer };
  /** Bytes between the directory and the end record. */
  beforeEnd?: Buffer;
  comment?: Buffer;
  /** Entries the end record counts, when it should lie. */
  countOverride?: number;
  /** Records the directory holds beyond the entries (a count that lies the other way). */
  extraRecord?: boolean;
  /** Every record points at the first entry's local header (entries that share bytes). */
  overlap?: boolean;
  /** Disk numbers in the end record. */
  disk?: number;
  zip64?: "none" | "always" | "locator-off" | "count-mismatch" | "disks" | "no-extra";
}

export function buildZip(entries: RawEntry[], options: ZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    at += b.length;
  };
  if (options.prefix) push(options.prefix);
  const laid: Laid[] = [];
  entries.forEach((entry, index) => {
    const method = entry.method ?? 8;
    const compressed = method === 8 ? deflateRawSync(entry.data) : entry.data;
    const record: Laid = { entry, compressedSize: compressed.length, offset: at, crc: entry.crc ?? crc32(entry.data), size: entry.size ?? entry.data.length };
    push(localHeader(record, options.zip64 === "always"));
    push(compressed);
    if (entry.flags && entry.flags & 0x8) push(dataDescriptor(record));
    laid.push(record);
    if (options.hidden?.after === index) push(options.hidden.bytes);
  });
  const directoryStart = at;
  for (const record of laid) push(centralHeader(options.overlap ? { ...record, offset: laid[0]!.offset } : record, options.zip64 === "always" || options.zip64 === "no-extra" ? options.zip64 : "none"));
  if (options.extraRecord && laid[0]) push(centralHeader(laid[0], "none"));
  const directorySize = at - directoryStart;
  if (options.beforeEnd) push(options.beforeEnd);
  const count = options.countOverride ?? laid.length;
  const zip64 = options.zip64 ?? "none";
  if (zip64 !== "none" && zip64 !== "no-extra") {
    const end64At = at;
    const end64 = Buffer.alloc(56);
    end64.writeUInt32LE(0x06064b50, 0);
    end64.writeBigUInt64LE(44n, 4);
    end64.writeUInt16LE(45, 12);
    end64.writeUInt16LE(45, 14);
    end64.writeUInt32LE(zip64 === "disks" ? 1 : 0, 16);
    end64.writeBigUInt64LE(BigInt(count), 24);
    end64.writeBigUInt64LE(BigInt(zip64 === "count-mismatch" ? count + 1 : count), 32);
    end64.writeBigUInt64LE(BigInt(directorySize), 40);
    end64.writeBigUInt64LE(BigInt(directoryStart), 48);
    push(end64);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(zip64 === "locator-off" ? end64At - 7 : end64At), 8);
    locator.writeUInt32LE(1, 16);
    push(locator);
  }
  const comment = options.comment ?? Buffer.alloc(0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.disk ?? 0, 4);
  end.writeUInt16LE(zip64 === "always" || zip64 === "count-mismatch" ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 === "always" || zip64 === "count-mismatch" ? 0xffff : count, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(zip64 === "none" || zip64 === "no-extra" ? directoryStart : 0xffffffff, 16);
  end.writeUInt16LE(comment.length, 20);
  push(end);
  push(comment);
  return Buffer.concat(parts);
}

function localHeader(record: Laid, zip64: boolean): Buffer {
  const { entry } = record;
  const name = Buffer.from(entry.localName ?? entry.name);
  const extra = Buffer.alloc(zip64 ? 20 : 0);
  if (zip64) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(entry.localSize ?? record.size), 4);
    extra.writeBigUInt64LE(BigInt(record.compressedSize), 12);
  }
  const header = Buffer.alloc(30);
  const descriptor = Boolean(entry.flags && entry.flags & 0x8);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(entry.flags ?? 0x0800, 6);
  header.writeUInt16LE(entry.localMethod ?? entry.method ?? 8, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(0x21, 12);
  header.writeUInt32LE(descriptor ? 0 : record.crc, 14);
  header.writeUInt32LE(descriptor ? 0 : zip64 ? 0xffffffff : record.compressedSize, 18);
  header.writeUInt32LE(descriptor ? 0 : zip64 ? 0xffffffff : (entry.localSize ?? record.size), 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, name, extra]);
}

function dataDescriptor(record: Laid): Buffer {
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(0x08074b50, 0);
  descriptor.writeUInt32LE(record.crc, 4);
  descriptor.writeUInt32LE(record.compressedSize, 8);
  descriptor.writeUInt32LE(record.size, 12);
  return descriptor;
}

function centralHeader(record: Laid, zip64: "none" | "always" | "no-extra"): Buffer {
  const { entry } = record;
  const name = Buffer.from(entry.name);
  const wide = zip64 !== "none";
  const extra = zip64 === "always" ? Buffer.alloc(20) : Buffer.alloc(0);
  if (zip64 === "always") {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(record.size), 4);
    extra.writeBigUInt64LE(BigInt(record.compressedSize), 12);
  }
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE((3 << 8) | 45, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(entry.flags ?? 0x0800, 8);
  header.writeUInt16LE(entry.method ?? 8, 10);
  header.writeUInt16LE(0, 12);
  header.writeUInt16LE(0x21, 14);
  header.writeUInt32LE(record.crc, 16);
  header.writeUInt32LE(wide ? 0xffffffff : record.compressedSize, 20);
  header.writeUInt32LE(wide ? 0xffffffff : record.size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  header.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
  header.writeUInt32LE(record.offset, 42);
  return Buffer.concat([header, name, extra]);
}

/** cumulocity.json and image.tar as pack writes them, with `image` in place of the image. */
export function serviceEntries(image: Buffer = IMAGE_BYTES, manifest: Buffer = MANIFEST_BYTES): RawEntry[] {
  return [
    { name: "cumulocity.json", data: manifest },
    { name: "image.tar", data: image },
  ];
}

// ---------------------------------------------------------------------------------------------
// Raw tar blocks: every field as text, so sizes can be "1.5" or "garbage".

interface RawTarHeader {
  name: string;
  /** The size field's text (octal in a real header), or a number written as octal. */
  size: number | string | Buffer;
  typeflag?: string;
  linkName?: string;
}

export function tarBlock(header: RawTarHeader): Buffer {
  const block = Buffer.alloc(512);
  block.write(header.name, 0, 100, "utf8");
  block.write("0000644\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  if (Buffer.isBuffer(header.size)) header.size.copy(block, 124, 0, 12);
  else block.write(typeof header.size === "number" ? `${header.size.toString(8).padStart(11, "0")}\0` : header.size.slice(0, 12), 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write(header.typeflag ?? "0", 156, "latin1");
  block.write(header.linkName ?? "", 157, 100, "utf8");
  block.write("ustar\0", 257, "latin1");
  block.write("00", 263, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}

function paxHeader(records: Record<string, string>): Buffer {
  const body = Buffer.concat(
    Object.entries(records).map(([key, value]) => {
      const text = ` ${key}=${value}\n`;
      let length = text.length + 1;
      while (`${length}${text}`.length !== length) length++;
      return Buffer.from(`${length}${text}`);
    }),
  );
  return Buffer.concat([tarBlock({ name: "PaxHeader", size: body.length, typeflag: "x" }), body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** A valid docker-archive with `before` inserted in front of its first entry. */
function imageWith(before: Buffer[], files: TarFile[] = []): Buffer {
  return Buffer.concat([...before, tarBuffer([...files, ...imageFiles()])]);
}

/** The entries of the corpus' image, as tar files (to add to, or to name differently). */
function imageFiles(repoTags: unknown = ["hostile-svc:1.0.0"], config?: string, layers?: string[]): TarFile[] {
  const layer = layerTar({ "app/server.js": "require('http').createServer((q, s) => s.end('ok')).listen(80);\n" });
  const configBytes = imageConfig([layer], { exposedPorts: ["80/tcp"] });
  const id = sha256Hex(configBytes);
  const layerName = `${sha256Hex(layer)}/layer.tar`;
  return [
    { name: "manifest.json", data: JSON.stringify([{ Config: config ?? `${id}.json`, RepoTags: repoTags, Layers: layers ?? [layerName] }]) },
    { name: `${id}.json`, data: configBytes },
    { name: layerName, data: layer },
  ];
}

// ---------------------------------------------------------------------------------------------
// The corpus.

const inMemory = (bytes: () => Buffer) => async (path: string) => {
  const handle = await open(path, "w");
  try {
    await handle.writeFile(bytes());
  } finally {
    await handle.close();
  }
};

const zipCase = (name: string, rule: string, says: RegExp, bytes: () => Buffer): HostileArchive => ({ name, kind: "zip", rule, says, write: inMemory(bytes) });
const tarCase = (name: string, rule: string, says: RegExp, bytes: () => Buffer): HostileArchive => ({ name, kind: "image-tar", rule, says, write: inMemory(bytes) });

const valid = () => buildZip(serviceEntries());
const flip = (bytes: Buffer, at: number) => {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
};

/** A zip of `count` tiny entries besides the service's (60,000 and 150,000 were killed for memory or time). */
function manyEntries(count: number): Buffer {
  const extra: RawEntry[] = Array.from({ length: count }, (_, i) => ({ name: `f/${i}`, data: Buffer.alloc(0), method: 0 }));
  return buildZip([...serviceEntries(), ...extra], count >= 0xffff ? { zip64: "always" } : {});
}

/** A tar of `count` empty files and then the image: more entries than an image has. */
function tarOfManyEntries(count: number): Buffer {
  const blocks = Array.from({ length: count }, (_, i) => tarBlock({ name: `junk/${i}`, size: 0 }));
  return imageWith(blocks);
}

/** A zip whose image.tar claims `size` bytes inflated: never read that far. */
function bomb(size: number): Buffer {
  const entries = serviceEntries();
  entries[1] = { ...entries[1]!, size };
  return buildZip(entries, size >= 0xffffffff ? { zip64: "always" } : {});
}

export const HOSTILE_ARCHIVES: HostileArchive[] = [
  // Names that climb out (zip slip), links and folders where files belong.
  zipCase("an entry named ../cumulocity.json", "zip-entry-name", /"\.\.\/cumulocity\.json", which points outside the folder it unpacks into/, () => buildZip([{ name: "../cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("an absolute entry name", "zip-entry-name", /"\/etc\/cron\.d\/evil"/, () => buildZip([...serviceEntries(), { name: "/etc/cron.d/evil", data: Buffer.from("* * * * * root sh") }])),
  zipCase("a backslash path", "zip-entry-name", /zip-slip name/, () => buildZip([...serviceEntries(), { name: "..\\..\\evil.sh", data: Buffer.from("x") }])),
  zipCase("a drive letter", "zip-entry-name", /"C:\/Windows\/evil\.dll"/, () => buildZip([...serviceEntries(), { name: "C:/Windows/evil.dll", data: Buffer.from("x") }])),
  zipCase("a NUL in a name", "zip-entry-name", /zip-slip name/, () => buildZip([...serviceEntries(), { name: "image.tar\0.txt", data: Buffer.from("x") }])),
  zipCase("cumulocity.json as a symbolic link", "zip-entry-type", /cumulocity\.json is a symbolic link in the zip/, () => buildZip([{ name: "cumulocity.json", data: Buffer.from("/etc/passwd"), mode: 0o120777 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("image.tar as a symbolic link", "zip-entry-type", /image\.tar is a symbolic link in the zip/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: Buffer.from("/var/lib/docker"), mode: 0o120777 }])),
  zipCase("image.tar as a directory", "zip-entry-type", /image\.tar is a directory in the zip/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: Buffer.alloc(0), mode: 0o040755, method: 0 }])),
  // Duplicates.
  zipCase("cumulocity.json twice", "zip-duplicate-entry", /2 entries named cumulocity\.json/, () => buildZip([...serviceEntries(), { name: "cumulocity.json", data: Buffer.from('{"apiVersion":"2","name":"other"}') }])),
  zipCase("image.tar twice", "zip-duplicate-entry", /2 entries named image\.tar/, () => buildZip([...serviceEntries(), { name: "image.tar", data: IMAGE_BYTES }])),
  // Truncated and corrupt.
  zipCase("a zip cut in half", "zip-format", /no end of central directory record/, () => valid().subarray(0, Math.floor(valid().length / 2))),
  zipCase("a zip one byte short", "zip-format", /not a valid zip/, () => valid().subarray(0, valid().length - 1)),
  zipCase("a zip without its central directory", "zip-format", /no end of central directory record/, () => valid().subarray(0, valid().indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])))),
  zipCase("an empty file", "zip-format", /too short/, () => Buffer.alloc(0)),
  zipCase("random bytes", "zip-format", /no end of central directory record/, () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))),
  zipCase("an end record whose comment runs past the file", "zip-format", /no end of central directory record/, () => {
    const bytes = valid();
    bytes.writeUInt16LE(500, bytes.length - 2);
    return bytes;
  }),
  zipCase("garbage deflate data in image.tar", "zip-corrupt", /image\.tar is damaged/, () => {
    const bytes = valid();
    const at = bytes.indexOf("image.tar") + 9 + 40;
    bytes.fill(0xff, at, at + 64);
    return bytes;
  }),
  zipCase("a CRC-32 mismatch in cumulocity.json", "zip-corrupt", /cumulocity\.json is damaged \(CRC-32 mismatch\)/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, crc: 0x12345678 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("a CRC-32 mismatch in a deflated image.tar (read only to the tar's end marker before)", "zip-corrupt", /image\.tar is damaged \(CRC-32 mismatch\)/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: IMAGE_BYTES, crc: 0x0badf00d }])),
  zipCase("a CRC-32 mismatch in a stored image.tar", "zip-corrupt", /image\.tar is damaged \(CRC-32 mismatch\)/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: IMAGE_BYTES, crc: 0x0badf00d, method: 0 }])),
  zipCase("an encrypted manifest", "zip-corrupt", /cumulocity\.json is encrypted/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, flags: 0x0801 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("an unknown compression method (bzip2)", "zip-corrupt", /compression method 12/, () => {
    const bytes = buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, method: 0 }, { name: "image.tar", data: IMAGE_BYTES }]);
    // Method 12 in the local header and the directory record of cumulocity.json.
    bytes.writeUInt16LE(12, 8);
    bytes.writeUInt16LE(12, bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10);
    return bytes;
  }),
  // Bombs.
  zipCase("a zip bomb: image.tar claims 6 GB", "zip-bomb", /image\.tar inflates to 5722\.0 MiB/, () => bomb(6_000_000_000)),
  zipCase("a zip bomb: cumulocity.json claims 64 MiB", "zip-entries", /cumulocity\.json has 67\.1 MB; a manifest is a few kilobytes/, () => {
    const entries = serviceEntries(IMAGE_BYTES, Buffer.alloc(64 * 1024 * 1024, 0x20));
    return buildZip(entries);
  }),
  zipCase("image.tar of 16 MiB of zeros (no tar, only padding)", "image-format", /bytes after the end of the tar archive/, () => buildZip(serviceEntries(Buffer.alloc(16 * 1024 * 1024)))),
  zipCase("entries that share their bytes (overlapping local headers)", "zip-format", /share bytes \(a zip bomb's trick\)/, () => buildZip(serviceEntries(), { overlap: true })),
  // Two archives in one, and layouts readers disagree about.
  zipCase("two end-of-central-directory records (one in the comment)", "zip-format", /two end-of-central-directory records/, () => {
    const inner = buildZip([{ name: "cumulocity.json", data: Buffer.from('{"apiVersion":"1"}') }]);
    return buildZip(serviceEntries(), { comment: inner.subarray(inner.length - 22) });
  }),
  zipCase("two archives in one file", "zip-format", /bytes before the first entry belong to no entry/, () => {
    const first = buildZip([{ name: "cumulocity.json", data: Buffer.from('{"apiVersion":"1"}') }]);
    return buildZip(serviceEntries(), { prefix: first });
  }),
  zipCase("a local header that the directory does not list", "zip-format", /bytes between cumulocity\.json and image\.tar belong to no entry/, () => {
    const hidden = buildZip([{ name: "evil.sh", data: Buffer.from("rm -rf /") }]);
    return buildZip(serviceEntries(), { hidden: { after: 0, bytes: hidden.subarray(0, hidden.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))) } });
  }),
  zipCase("a local header naming another file", "zip-format", /the local header of image\.tar names another file \(evil\.tar\)/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: IMAGE_BYTES, localName: "evil.tar" }])),
  zipCase("a local header with another method", "zip-format", /gives another compression method/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, localMethod: 0 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("a local header with another size", "zip-format", /gives other sizes or another CRC-32/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, localSize: 3 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("a stored entry with a data descriptor", "zip-format", /stored with a data descriptor, which Java's ZipInputStream cannot read/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, method: 0, flags: 0x0808 }, { name: "image.tar", data: IMAGE_BYTES }])),
  zipCase("bytes between the central directory and its end record", "zip-format", /bytes lie between the central directory and its end record/, () => buildZip(serviceEntries(), { beforeEnd: Buffer.from("PK\u0005\u0006 hidden") })),
  zipCase("an end record that counts fewer entries than the directory holds", "zip-format", /holds more than the 2 entries its end record counts/, () => buildZip(serviceEntries(), { extraRecord: true })),
  zipCase("an end record that counts more entries than there are", "zip-format", /central directory is damaged/, () => buildZip(serviceEntries(), { countOverride: 3 })),
  zipCase("an archive that claims to span disks", "zip-format", /span several disks/, () => buildZip(serviceEntries(), { disk: 1 })),
  // ZIP64 inconsistencies.
  zipCase("ZIP64 end record and end record that disagree on the count", "zip-format", /counts the entries twice, differently/, () => buildZip(serviceEntries(), { zip64: "count-mismatch" })),
  zipCase("a ZIP64 locator that points beside its record", "zip-format", /not where its locator says/, () => buildZip(serviceEntries(), { zip64: "locator-off" })),
  zipCase("a ZIP64 end record on another disk", "zip-format", /claims several disks/, () => buildZip(serviceEntries(), { zip64: "disks" })),
  zipCase("ZIP64 sizes missing where the directory defers to them", "zip-format", /lacks its ZIP64 sizes/, () => buildZip(serviceEntries(), { zip64: "no-extra" })),
  zipCase("a ZIP64 entry whose local header disagrees", "zip-format", /gives other sizes or another CRC-32/, () => buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES, localSize: 1 }, { name: "image.tar", data: IMAGE_BYTES }], { zip64: "always" })),
  // Many entries (killed for memory or time before).
  zipCase("60,000 entries", "zip-extra-entry", /and 59995 more/, () => manyEntries(60_000)),
  zipCase("150,000 entries", "zip-extra-entry", /and 149995 more/, () => manyEntries(150_000)),

  // Image tars: names and links out of the archive.
  tarCase("a tar entry named ../evil", "image-format", /the entry "\.\.\/evil" points outside the archive/, () => imageWith([], [{ name: "../evil", data: "x" }])),
  tarCase("an absolute tar entry", "image-format", /the entry "\/etc\/cron\.d\/evil" points outside the archive/, () => imageWith([], [{ name: "/etc/cron.d/evil", data: "x" }])),
  tarCase("a tar entry that climbs out further down", "image-format", /"blobs\/\.\.\/\.\.\/x" points outside the archive/, () => imageWith([], [{ name: "blobs/../../x", data: "x" }])),
  tarCase("a symlink out of the archive", "image-format", /the link "escape" points outside the archive \(to "\.\.\/\.\.\/etc\/passwd"\)/, () => imageWith([], [{ name: "escape", type: "symlink", linkName: "../../etc/passwd" }])),
  tarCase("a symlink to an absolute path", "image-format", /the link "abs" points outside the archive \(to "\/etc\/shadow"\)/, () => imageWith([], [{ name: "abs", type: "symlink", linkName: "/etc/shadow" }])),
  tarCase("a hard link out of the archive", "image-format", /the hard link "hard" points outside the archive/, () => imageWith([tarBlock({ name: "hard", size: 0, typeflag: "1", linkName: "../outside" })])),
  tarCase("manifest.json's Config outside the tar", "image-format", /names "\.\.\/config\.json", outside the archive/, () => tarBuffer(imageFiles(["hostile-svc:1.0.0"], "../config.json"))),
  tarCase("manifest.json's Config as an absolute path", "image-format", /names "\/etc\/passwd", outside the archive/, () => tarBuffer(imageFiles(["hostile-svc:1.0.0"], "/etc/passwd"))),
  tarCase("a layer outside the tar", "image-format", /names "\.\.\/\.\.\/layer\.tar", outside the archive/, () => tarBuffer(imageFiles(["hostile-svc:1.0.0"], undefined, ["../../layer.tar"]))),
  tarCase("manifest.json twice", "image-format", /it holds "manifest\.json" twice/, () => tarBuffer([...imageFiles(), { name: "manifest.json", data: "[]" }])),
  // Odd RepoTags.
  ...(
    [
      ["an upper-case RepoTags name", ["Hostile-Svc:1.0.0"]],
      ["a RepoTags name with a space", ["hostile svc:1.0.0"]],
      ["a RepoTags name without a name", [":1.0.0"]],
      ["a RepoTags name without a tag", ["hostile-svc:"]],
      ["a RepoTags name that climbs", ["../hostile-svc:1.0.0"]],
      ["a RepoTags name with a line break", ["hostile-svc:1.0.0\nevil:latest"]],
      ["a RepoTags name of 300 characters", [`${"a".repeat(300)}:1`]],
      ["a RepoTags tag of 129 characters", [`hostile-svc:${"t".repeat(129)}`]],
    ] as const
  ).map(([name, tags]) => tarCase(name, "image-repo-tag-format", /which docker cannot load \("invalid reference format"\)/, () => tarBuffer(imageFiles(tags)))),
  tarCase("RepoTags that are not strings", "image-format", /RepoTags that are not a list of names/, () => tarBuffer(imageFiles([42, { name: "x" }]))),
  tarCase("RepoTags as one string", "image-format", /RepoTags that are not a list of names/, () => tarBuffer(imageFiles("hostile-svc:1.0.0"))),
  // PAX sizes and header numbers that are not numbers (crashes, or 4.8 GB of memory, before).
  ...(["1.5", "-1", "NaN", "abc", "", "1e3", "0x10", "99999999999999999999", " 12"] as const).map((size) =>
    tarCase(`a PAX size of ${JSON.stringify(size)}`, "image-format", /damaged pax header: the size .* is not a whole number of bytes/, () => imageWith([paxHeader({ size }), tarBlock({ name: "padded", size: 0 })])),
  ),
  tarCase("a header size that is not octal", "image-format", /a header's size is not a number/, () => imageWith([tarBlock({ name: "garbage", size: "9999garbage" })])),
  tarCase("a negative base-256 size", "image-format", /a header's size is not a number/, () => imageWith([tarBlock({ name: "negative", size: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]) })])),
  tarCase("a base-256 size past 2^53", "image-format", /a header's size is not a number/, () => imageWith([tarBlock({ name: "huge", size: Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) })])),
  tarCase("a layer claiming 1 TiB", "image-format", /is truncated/, () => {
    const files = imageFiles();
    const tar = tarBuffer(files);
    // The layer is the third entry: after two headers and their padded data.
    const layerAt = files.slice(0, 2).reduce((at, f) => at + 512 + Math.ceil(Buffer.byteLength(f.data as string | Buffer) / 512) * 512, 0);
    const size = Buffer.alloc(12);
    size[0] = 0x80;
    size.writeUIntBE(2 ** 40, 6, 6);
    tarBlock({ name: files[2]!.name, size }).copy(tar, layerAt);
    return tar;
  }),
  tarCase("a broken header checksum", "image-format", /a header checksum does not match/, () => flip(tarBuffer(imageFiles()), 5)),
  tarCase("a tar cut off inside a layer", "image-format", /is truncated/, () => tarBuffer(imageFiles()).subarray(0, 2600)),
  tarCase("2 MiB hidden after the tar's end marker", "image-format", /bytes after the end of the tar archive/, () => Buffer.concat([tarBuffer(imageFiles()), Buffer.alloc(2 * 1024 * 1024, 0x41)])),
  tarCase("70,000 entries", "image-format", /more than 65536 entries/, () => tarOfManyEntries(70_000)),
  tarCase("a manifest.json nested 100,000 deep", "image-format", /manifest\.json entry 0 lacks Config or Layers/, () => tarBuffer([{ name: "manifest.json", data: `${"[".repeat(100_000)}${"]".repeat(100_000)}` }, ...imageFiles().slice(1)])),
];

/**
 * The cases test/hostile-archives.test.ts also gives to `deploy` and the sandbox's upload: one
 * of each kind of refusal (names, links, bombs of the image and of the manifest, ambiguity, ZIP64, CRC, 150,000 entries; tar
 * escapes, PAX sizes, tags).
 */
export const DEPLOY_SAMPLE = [
  "an entry named ../cumulocity.json",
  "cumulocity.json as a symbolic link",
  "a zip bomb: image.tar claims 6 GB",
  "a zip bomb: cumulocity.json claims 64 MiB",
  "two archives in one file",
  "a CRC-32 mismatch in a deflated image.tar (read only to the tar's end marker before)",
  "a ZIP64 locator that points beside its record",
  "150,000 entries",
  'a PAX size of "1.5"',
  "manifest.json's Config outside the tar",
  "an upper-case RepoTags name",
  "a symlink out of the archive",
].map((name) => {
  const found = HOSTILE_ARCHIVES.find((c) => c.name === name);
  if (!found) throw new Error(`no hostile archive named ${name}`);
  return found;
});

/**
 * A zip with a stored image.tar whose one layer is `layerBytes` of holes: checking it reads
 * and hashes gigabytes (seconds of work to interrupt) while the file costs no disk. Its
 * digests and CRC-32 are not computed (they would cost the same time again), so a check that
 * runs to the end refuses it; the interrupt tests stop it long before.
 */
export async function writeLargeStoredZip(path: string, layerBytes: number): Promise<void> {
  const manifestName = "manifest.json";
  const configBytes = imageConfig([], { exposedPorts: ["80/tcp"] });
  const id = sha256Hex(configBytes);
  const layerName = `${"0".repeat(64)}/layer.tar`;
  const manifest = Buffer.from(JSON.stringify([{ Config: `${id}.json`, RepoTags: ["big:1.0.0"], Layers: [layerName] }]));
  const pad = (n: number) => (512 - (n % 512)) % 512;
  const head = Buffer.concat([
    tarBlock({ name: manifestName, size: manifest.length }), manifest, Buffer.alloc(pad(manifest.length)),
    tarBlock({ name: `${id}.json`, size: configBytes.length }), configBytes, Buffer.alloc(pad(configBytes.length)),
    tarBlock({ name: layerName, size: layerBytes }),
  ]);
  const tarBytes = head.length + layerBytes + pad(layerBytes) + 1024;
  if (tarBytes >= 0xffffffff) throw new Error("writeLargeStoredZip writes no ZIP64: keep the layer under 4 GiB");
  const entries: Laid[] = [{ entry: { name: "cumulocity.json", data: MANIFEST_BYTES, method: 0 }, compressedSize: MANIFEST_BYTES.length, offset: 0, crc: crc32(MANIFEST_BYTES), size: MANIFEST_BYTES.length }];
  const handle = await open(path, "w");
  try {
    let at = 0;
    const put = async (data: Buffer) => {
      await handle.write(data, 0, data.length, at);
      at += data.length;
    };
    await put(localHeader(entries[0]!, false));
    await put(MANIFEST_BYTES);
    const image: Laid = { entry: { name: "image.tar", data: Buffer.alloc(0), method: 0 }, compressedSize: tarBytes, offset: at, crc: 0, size: tarBytes };
    await put(localHeader(image, false));
    await put(head);
    at += tarBytes - head.length; // the layer's zeros and the end marker: holes
    entries.push(image);
    const directoryStart = at;
    const directory = Buffer.concat(entries.map((e) => centralHeader(e, "none")));
    await put(directory);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(2, 8);
    end.writeUInt16LE(2, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(directoryStart, 16);
    await put(end);
  } finally {
    await handle.close();
  }
}
