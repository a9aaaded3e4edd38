import { stat } from "node:fs/promises";
import { formatBytes } from "../ui/format.js";
import { checkManifestText, type Diagnostic, type ManifestReport } from "../manifest/load.js";
import { MANIFEST_MAX_BYTES } from "../manifest/limits.js";
import { inspectImageTar, inspectStoredImageTar, type ImageTarReport } from "../image/image-tar.js";
import { UPLOAD_RULES, type UploadRuleId } from "./upload-rules.js";
import { invalidZip, openZip, ZipFormatError, type ZipEntry, type ZipReader } from "./zip-reader.js";

/** platform.md §2: "Microservice image size — hard — 500 MB" (the sandbox uses the same figure). */
export const PLATFORM_ZIP_LIMIT_BYTES = 500 * 1024 * 1024;

export const MANIFEST_ENTRY = "cumulocity.json";
export const IMAGE_ENTRY = "image.tar";

export interface UploadZipReport {
  file: string;
  manifest?: ManifestReport;
  image?: ImageTarReport;
  /** Everything found, zip, manifest and image alike; `file` is like "x.zip!cumulocity.json". */
  diagnostics: Diagnostic[];
  bytes: number;
}

/** The platform's limit is in binary megabytes ("500 MB" = 524,288,000 bytes), so sizes near it are shown that way. */
export function formatMebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (mib < 1) return `${bytes} bytes`;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/**
 * The quota names the image's size while the upload limit is the zip's; a compressed zip can
 * hold an image over the quota. Which one the platform enforces at upload is not documented.
 */
export function imageSizeWarning(imageBytes: number, limit: number): string | undefined {
  if (imageBytes <= limit) return undefined;
  return `The image has ${formatMebibytes(imageBytes)} uncompressed; the platform's image size quota is ${formatMebibytes(limit)}, and it may count the image, not the zip. Make the image smaller (a slimmer base image, production dependencies only).`;
}

/**
 * An image.tar that inflates past this many times the upload limit (the platform's, or a larger
 * --size-limit) is not read: 5,000 MiB for the platform, ten times its image size quota
 * ([DOC-QUOTAS]), where reading it would already take minutes (a zip bomb of 500 MB can claim
 * half a terabyte).
 */
const BOMB_FACTOR = 10;

/**
 * The zip as the platform sees it on upload (platform.md §2, §6.4): a readable zip under the
 * size limit, `cumulocity.json` and `image.tar` at its root, a valid manifest, and one
 * linux/amd64 docker-archive image whose data matches its digests. Streams the image once.
 */
export async function checkUploadZip(path: string, options: { sizeLimit?: number; signal?: AbortSignal } = {}): Promise<UploadZipReport> {
  const sizeLimit = options.sizeLimit ?? PLATFORM_ZIP_LIMIT_BYTES;
  const bytes = (await stat(path)).size;
  const diagnostics: Diagnostic[] = [];
  const add = (rule: UploadRuleId, message: string, entry?: string) => diagnostics.push(diagnostic(entry ? `${path}!${entry}` : path, rule, message));
  const result: UploadZipReport = { file: path, diagnostics, bytes };

  if (bytes > sizeLimit) add("zip-size", `The zip has ${formatMebibytes(bytes)}; the platform accepts at most ${formatMebibytes(sizeLimit)}.`);

  let zip: ZipReader;
  try {
    zip = await openZip(path);
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    add("zip-format", error.message);
    return result;
  }
  try {
    checkEntries(zip.entries, add);
    // The first entry of a name (a second one was reported), and only when it is a file.
    const fileNamed = (name: string) => zip.entries.find((e) => e.name === name && e.type === "file");
    if (fileNamed(MANIFEST_ENTRY)) {
      const manifest = await readManifest(zip, add);
      if (manifest !== undefined) {
        result.manifest = checkManifestText(manifest, `${path}!${MANIFEST_ENTRY}`);
        diagnostics.push(...result.manifest.errors, ...result.manifest.warnings);
      }
    }
    const imageEntry = fileNamed(IMAGE_ENTRY);
    if (imageEntry && imageEntry.size > BOMB_FACTOR * Math.max(sizeLimit, PLATFORM_ZIP_LIMIT_BYTES)) {
      add("zip-bomb", `image.tar inflates to ${formatMebibytes(imageEntry.size)} from ${formatMebibytes(imageEntry.compressedSize)}: no image the platform deploys is that large (its image size quota is ${formatMebibytes(PLATFORM_ZIP_LIMIT_BYTES)}); not read further.`, IMAGE_ENTRY);
    } else if (imageEntry) {
      // Only news when the zip itself is within the limit.
      const tooBig = bytes <= sizeLimit ? imageSizeWarning(imageEntry.size, sizeLimit) : undefined;
      if (tooBig) add("image-size", tooBig, IMAGE_ENTRY);
      try {
        const image = await inspectImageEntry(zip, path, options.signal);
        result.image = image;
        for (const problem of image.problems) add(problem.rule, problem.message, IMAGE_ENTRY);
      } catch (error) {
        if (!(error instanceof ZipFormatError)) throw error;
        add("zip-corrupt", error.message, IMAGE_ENTRY);
      }
    }
  } finally {
    await zip.close();
  }
  return result;
}

/**
 * A stored image.tar (zip -0, or pack --compression-level 0) is read in place with one reused
 * buffer; a deflated one streams through inflate. Either way a damaged entry throws
 * ZipFormatError, and then its image findings are not trusted.
 */
async function inspectImageEntry(zip: ZipReader, path: string, signal: AbortSignal | undefined): Promise<ImageTarReport> {
  const range = await zip.storedRange(IMAGE_ENTRY);
  if (!range) return inspectImageTar(await zip.openEntry(IMAGE_ENTRY), signal);
  const { report, crc32 } = await inspectStoredImageTar(path, range, signal);
  const expected = zip.entries.find((e) => e.name === IMAGE_ENTRY)!.crc32 >>> 0;
  if (crc32 !== expected) throw invalidZip(path, `${IMAGE_ENTRY} is damaged (CRC-32 mismatch)`);
  return report;
}

async function readManifest(zip: ZipReader, add: (rule: UploadRuleId, message: string, entry?: string) => void): Promise<string | undefined> {
  const entry = zip.entries.find((e) => e.name === MANIFEST_ENTRY)!;
  if (entry.size > MANIFEST_MAX_BYTES) {
    add("zip-entries", `${MANIFEST_ENTRY} has ${formatBytes(entry.size)}; a manifest is a few kilobytes.`, MANIFEST_ENTRY);
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openEntry(MANIFEST_ENTRY)) chunks.push(chunk as Buffer);
    // TextDecoder drops a UTF-8 byte order mark, as the platform's JSON parser does.
    return new TextDecoder("utf-8").decode(Buffer.concat(chunks));
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    add("zip-corrupt", error.message, MANIFEST_ENTRY);
    return undefined;
  }
}

/**
 * Names and kinds of entries, in one pass. The platform reads cumulocity.json and image.tar at
 * the root; everything else is reported once, so a zip of 150,000 entries gives a handful of
 * diagnostics, not one per entry.
 */
function checkEntries(entries: readonly ZipEntry[], add: (rule: UploadRuleId, message: string, entry?: string) => void): void {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.name, (counts.get(entry.name) ?? 0) + 1);
  for (const [name, count] of counts) {
    if (count > 1) add("zip-duplicate-entry", `The zip holds ${count} entries named ${name}; which one the platform reads is not defined. Pack the zip again.`);
  }
  for (const wanted of [MANIFEST_ENTRY, IMAGE_ENTRY]) {
    const found = entries.find((e) => e.name === wanted);
    if (found && found.type !== "file") add("zip-entry-type", `${wanted} is a ${found.type === "symlink" ? "symbolic link" : "directory"} in the zip, not a file; pack the zip again.`, wanted);
    if (found) continue;
    const near = entries.find((e) => e.name.toLowerCase() === wanted || e.name.toLowerCase().endsWith(`/${wanted}`));
    add("zip-entries", near ? `${wanted} must be at the zip's root with that exact name; found ${near.name}.` : `The zip has no ${wanted}.`);
  }
  const others = [...counts.keys()].filter((n) => n !== MANIFEST_ENTRY && n !== IMAGE_ENTRY);
  const unsafe = others.filter(isUnsafeName);
  const extra = others.filter((n) => !isUnsafeName(n));
  if (unsafe.length > 0) {
    add("zip-entry-name", `The zip holds ${listed(unsafe, "an entry named", "entries named")}, which ${unsafe.length === 1 ? "points" : "point"} outside the folder it unpacks into (a zip-slip name); the platform takes only ${MANIFEST_ENTRY} and ${IMAGE_ENTRY} at the root.`);
  }
  if (extra.length > 0) add("zip-extra-entry", `The zip also holds ${listed(extra, "", "")}; the platform takes exactly ${MANIFEST_ENTRY} and ${IMAGE_ENTRY} (c8y-ms pack writes nothing else).`);
}

/** Absolute paths, drive letters, backslashes, `..` segments and NULs: names unzip would write outside its folder, or refuse. */
function isUnsafeName(name: string): boolean {
  return name === "" || name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.includes("\\") || name.includes("\0") || name.split("/").includes("..");
}

/** `a, b and 3 more`: the first few names, and how many others. */
function listed(names: readonly string[], one: string, many: string): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(", ");
  const more = names.length > 5 ? ` and ${names.length - 5} more` : "";
  const prefix = names.length === 1 ? one : many;
  return `${prefix ? `${prefix} ` : ""}${shown}${more}`;
}

function diagnostic(file: string, rule: UploadRuleId, message: string): Diagnostic {
  // Archives have no lines; 1:1 keeps the `file:line:column` shape every diagnostic has.
  return { file, line: 1, column: 1, pointer: "", message, rule, severity: UPLOAD_RULES[rule].severity };
}
