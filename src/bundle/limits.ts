import { formatMebibytes } from "../format.js";

/** platform.md §2: "Microservice image size — hard — 500 MB" (the sandbox uses the same figure). */
export const PLATFORM_ZIP_LIMIT_BYTES = 500 * 1024 * 1024;

/** The two entries of a deployable zip, at its root (platform.md §2). */
export const MANIFEST_ENTRY = "cumulocity.json";
export const IMAGE_ENTRY = "image.tar";

/** Why a zip of `bytes` is refused under `limit`, or undefined when it is not. */
export function zipSizeProblem(bytes: number, limit: number): string | undefined {
  return bytes > limit ? `The zip has ${formatMebibytes(bytes)}; the platform accepts at most ${formatMebibytes(limit)}.` : undefined;
}

/**
 * The quota names the image's size while the upload limit is the zip's; a compressed zip can
 * hold an image over the quota. Which one the platform enforces at upload is not documented.
 */
export function imageSizeWarning(imageBytes: number, limit: number): string | undefined {
  if (imageBytes <= limit) return undefined;
  return `The image has ${formatMebibytes(imageBytes)} uncompressed; the platform's image size quota is ${formatMebibytes(limit)}, and it may count the image, not the zip. Make the image smaller (a slimmer base image, production dependencies only).`;
}
