import { stat } from "node:fs/promises";
import { formatMebibytes } from "../format.js";
import { findingsOf, type Diagnostic, type Findings } from "../diagnostics.js";
import { invalidZip, ZipFormatError } from "../archive/zip-reader.js";
import { inspectImageTar, inspectStoredImageTar, type ImageTarReport } from "../image/image-tar.js";
import type { ManifestReport } from "../manifest/load.js";
import { IMAGE_ENTRY, imageSizeWarning, PLATFORM_ZIP_LIMIT_BYTES, zipSizeProblem } from "./limits.js";
import { bundleFinding, fileEntry, openBundle, type Bundle } from "./open.js";

export interface BundleCheckOptions {
  /** The largest zip accepted; the platform's 500 MiB unless an installation takes more. */
  sizeLimit?: number | undefined;
  /** Stops the check (a signal): reading gigabytes of image takes seconds. */
  signal?: AbortSignal | undefined;
}

/**
 * An image.tar that inflates past this many times the upload limit (the platform's, or a larger
 * --size-limit) is not read: 5,000 MiB for the platform, ten times its image size quota
 * ([DOC-QUOTAS]), where reading it would already take minutes (a zip bomb of 500 MB can claim
 * half a terabyte).
 */
const BOMB_FACTOR = 10;

/** What the platform would say about a zip: every finding, sorted once, with what it read. */
export interface BundleReport extends Findings {
  file: string;
  bytes: number;
  manifest?: ManifestReport | undefined;
  image?: ImageTarReport | undefined;
}

/**
 * The zip as the platform sees it on upload (platform.md §2, §6.4): a readable zip under the
 * size limit, `cumulocity.json` and `image.tar` at its root, a valid manifest, and one
 * linux/amd64 docker-archive image whose data matches its digests. Streams the image once.
 */
export async function checkBundle(bundle: Bundle, options: BundleCheckOptions = {}): Promise<BundleReport> {
  const sizeLimit = options.sizeLimit ?? PLATFORM_ZIP_LIMIT_BYTES;
  const { file, bytes, manifest } = bundle;
  const diagnostics: Diagnostic[] = [...bundle.findings];
  const tooBig = zipSizeProblem(bytes, sizeLimit);
  if (tooBig) diagnostics.push(bundleFinding(file, "zip-size", tooBig));
  if (manifest) diagnostics.push(...manifest.errors, ...manifest.warnings);

  let image: ImageTarReport | undefined;
  const imageEntry = fileEntry(bundle.entries, IMAGE_ENTRY);
  if (imageEntry && imageEntry.size > BOMB_FACTOR * Math.max(sizeLimit, PLATFORM_ZIP_LIMIT_BYTES)) {
    const claim = `image.tar inflates to ${formatMebibytes(imageEntry.size)} from ${formatMebibytes(imageEntry.compressedSize)}`;
    diagnostics.push(bundleFinding(file, "zip-bomb", `${claim}: no image the platform deploys is that large (its image size quota is ${formatMebibytes(PLATFORM_ZIP_LIMIT_BYTES)}); not read further.`, IMAGE_ENTRY));
  } else if (imageEntry) {
    // Only news when the zip itself is within the limit.
    const imageTooBig = tooBig ? undefined : imageSizeWarning(imageEntry.size, sizeLimit);
    if (imageTooBig) diagnostics.push(bundleFinding(file, "image-size", imageTooBig, IMAGE_ENTRY));
    try {
      image = await inspectImageEntry(bundle, options.signal);
      for (const problem of image.problems) diagnostics.push({ file, entry: IMAGE_ENTRY, line: 1, column: 1, pointer: "", ...problem });
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
      diagnostics.push(bundleFinding(file, "zip-corrupt", error.message, IMAGE_ENTRY));
    }
  }
  return { file, bytes, manifest, image, ...findingsOf(diagnostics) };
}

/** Opens, checks and closes a zip; a file that is not a zip is a finding, not an error (validate, the sandbox). */
export async function checkBundleFile(file: string, options: BundleCheckOptions = {}): Promise<BundleReport> {
  let bundle: Bundle;
  try {
    bundle = await openBundle(file);
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    const { size } = await stat(file);
    const tooBig = zipSizeProblem(size, options.sizeLimit ?? PLATFORM_ZIP_LIMIT_BYTES);
    const diagnostics = [bundleFinding(file, "zip-format", error.message), ...(tooBig ? [bundleFinding(file, "zip-size", tooBig)] : [])];
    return { file, bytes: size, ...findingsOf(diagnostics) };
  }
  try {
    return await checkBundle(bundle, options);
  } finally {
    await bundle.close();
  }
}

/**
 * A stored image.tar (zip -0, or pack --compression-level 0) is read in place with one reused
 * buffer; a deflated one streams through inflate. Either way a damaged entry throws
 * ZipFormatError, and then its image findings are not trusted.
 */
async function inspectImageEntry({ file, zip }: Bundle, signal: AbortSignal | undefined): Promise<ImageTarReport> {
  const range = await zip.storedRange(IMAGE_ENTRY);
  if (!range) return inspectImageTar(await zip.openEntry(IMAGE_ENTRY), signal);
  const { report, crc32 } = await inspectStoredImageTar(file, range, signal);
  const expected = zip.entries.find((e) => e.name === IMAGE_ENTRY)!.crc32 >>> 0;
  if (crc32 !== expected) throw invalidZip(file, `${IMAGE_ENTRY} is damaged (CRC-32 mismatch)`);
  return report;
}
