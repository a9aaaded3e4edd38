import { checkUploadZip, MANIFEST_ENTRY } from "../archive/upload-zip.js";
import { openZip } from "../archive/zip-reader.js";
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
  const report = await checkUploadZip(path, { sizeLimit });
  const first = report.diagnostics.find((d) => d.severity === "error");
  if (first) {
    const version = first.rule === "version-semver" ? await writtenVersion(path) : undefined;
    // The place inside the zip (`<zip>!cumulocity.json`), without the sandbox's temporary file name.
    const entry = first.file.includes("!") ? first.file.slice(first.file.indexOf("!") + 1) : "";
    const place = [entry, first.pointer ? `at ${first.pointer}` : ""].filter(Boolean).join(" ");
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

/** The version as written, for the platform's version message (the report has no manifest when it has errors). */
async function writtenVersion(path: string): Promise<string | undefined> {
  const zip = await openZip(path);
  try {
    const entry = zip.entries.find((e) => e.name === MANIFEST_ENTRY);
    if (!entry) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openEntry(entry.name)) chunks.push(chunk as Buffer);
    const value = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { version?: unknown };
    return typeof value.version === "string" ? value.version : JSON.stringify(value.version);
  } catch {
    return undefined;
  } finally {
    await zip.close();
  }
}
