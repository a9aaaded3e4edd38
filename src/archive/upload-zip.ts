import { stat } from "node:fs/promises";
import { formatBytes } from "../ui/format.js";
import { checkManifestText, type Diagnostic, type ManifestReport } from "../manifest/load.js";
import { inspectImageTar, inspectStoredImageTar, type ImageTarReport } from "../image/image-tar.js";
import { UPLOAD_RULES, type UploadRuleId } from "./upload-rules.js";
import { invalidZip, openZip, ZipFormatError, type ZipReader } from "./zip-reader.js";

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

/** A manifest is a few kilobytes; anything near this is not one. */
const MANIFEST_LIMIT = 1024 * 1024;

/**
 * The zip as the platform sees it on upload (platform.md §2, §6.4): a readable zip under the
 * size limit, `cumulocity.json` and `image.tar` at its root, a valid manifest, and one
 * linux/amd64 docker-archive image whose data matches its digests. Streams the image once.
 */
export async function checkUploadZip(path: string, options: { sizeLimit?: number } = {}): Promise<UploadZipReport> {
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
    const names = zip.entries.map((e) => e.name);
    // One pass: a scan per name made 60,000 entries take minutes.
    const counts = new Map<string, number>();
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    for (const [name, count] of counts) {
      if (count > 1) add("zip-duplicate-entry", `The zip holds ${count} entries named ${name}; which one the platform reads is not defined. Pack the zip again.`);
    }
    for (const wanted of [MANIFEST_ENTRY, IMAGE_ENTRY]) {
      if (names.includes(wanted)) continue;
      const near = names.find((n) => n.toLowerCase() === wanted || n.toLowerCase().endsWith(`/${wanted}`));
      add("zip-entries", near ? `${wanted} must be at the zip's root with that exact name; found ${near}.` : `The zip has no ${wanted}.`);
    }
    for (const name of names.filter((n) => n !== MANIFEST_ENTRY && n !== IMAGE_ENTRY)) add("zip-extra-entry", `The zip also holds ${name}; the platform takes exactly ${MANIFEST_ENTRY} and ${IMAGE_ENTRY} (c8y-ms pack writes nothing else).`);

    if (names.includes(MANIFEST_ENTRY)) {
      const manifest = await readManifest(zip, add);
      if (manifest !== undefined) {
        result.manifest = checkManifestText(manifest, `${path}!${MANIFEST_ENTRY}`);
        diagnostics.push(...result.manifest.errors, ...result.manifest.warnings);
      }
    }
    if (names.includes(IMAGE_ENTRY)) {
      // Only news when the zip itself is within the limit.
      const tooBig = bytes <= sizeLimit ? imageSizeWarning(zip.entries.find((e) => e.name === IMAGE_ENTRY)!.size, sizeLimit) : undefined;
      if (tooBig) add("image-size", tooBig, IMAGE_ENTRY);
      try {
        const image = await inspectImageEntry(zip, path);
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
async function inspectImageEntry(zip: ZipReader, path: string): Promise<ImageTarReport> {
  const range = await zip.storedRange(IMAGE_ENTRY);
  if (!range) return inspectImageTar(await zip.openEntry(IMAGE_ENTRY));
  const { report, crc32 } = await inspectStoredImageTar(path, range);
  const expected = zip.entries.find((e) => e.name === IMAGE_ENTRY)!.crc32 >>> 0;
  if (crc32 !== expected) throw invalidZip(path, `${IMAGE_ENTRY} is damaged (CRC-32 mismatch)`);
  return report;
}

async function readManifest(zip: ZipReader, add: (rule: UploadRuleId, message: string, entry?: string) => void): Promise<string | undefined> {
  const entry = zip.entries.find((e) => e.name === MANIFEST_ENTRY)!;
  if (entry.size > MANIFEST_LIMIT) {
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

function diagnostic(file: string, rule: UploadRuleId, message: string): Diagnostic {
  // Archives have no lines; 1:1 keeps the `file:line:column` shape every diagnostic has.
  return { file, line: 1, column: 1, pointer: "", message, rule, severity: UPLOAD_RULES[rule].severity };
}
