import { checkBundleFile } from "../bundle/check.js";
import { CONTEXT_PATH_ERROR, invalidDataError, NAME_ERROR } from "./applications.js";

/** What the sandbox keeps of an accepted zip. */
export interface CheckedUpload {
  /** The manifest as written in the zip. */
  manifest: Record<string, unknown>;
  version: string;
  /** Digest of the image's config: two uploads of the same image share it (platform.md §1.7). */
  imageId: string;
}

/**
 * Checks an uploaded zip the way the platform does (platform.md §2, §6.4): entries, the
 * manifest by the same rules as `c8y-ms validate` (src/manifest), and the image archive.
 * Every error-severity diagnostic rejects the upload (the platform's full server-side rule
 * set is undocumented; we apply all of ours). Where the platform's exact text is known
 * (platform.md §1.6, §1.7) the message is that text, otherwise our diagnostic with its place.
 * @throws {ApiError} 422 for the first error
 */
export async function checkUpload(path: string, sizeLimit: number, fileName = "the uploaded file"): Promise<CheckedUpload> {
  const report = await checkBundleFile(path, { sizeLimit });
  const first = report.errors[0];
  if (first) {
    const written = (report.manifest?.document as { version?: unknown } | undefined)?.version;
    const version = typeof written === "string" ? written : JSON.stringify(written);
    // The place inside the zip: its entry, never the sandbox's temporary file name.
    const place = [first.entry ?? "", first.pointer ? `at ${first.pointer}` : ""].filter(Boolean).join(" ");
    // Messages about the zip itself name it: say the client's file name instead.
    const message = first.message.split(path).join(fileName);
    throw invalidDataError(platformText(first.rule, place ? `${message} (${place})` : message, version));
  }
  const manifest = report.manifest?.manifest as Record<string, unknown> | undefined;
  const image = report.image?.images[0];
  if (!manifest || !image) throw invalidDataError("The zip must hold cumulocity.json and image.tar at its root.");
  return { manifest, version: String(manifest.version), imageId: image.id };
}

/** The platform's own words for the rules it is known to report. */
export function platformText(rule: string, message: string, version?: string): string {
  switch (rule) {
    case "name-format":
    case "name-length":
      return NAME_ERROR;
    case "context-path-format":
      return CONTEXT_PATH_ERROR;
    case "version-semver":
      return `Microservice version string "${version ?? ""}" is not valid, must be correct "semantic version"`;
    default:
      return `Microservice binary is invalid: ${message}`;
  }
}
