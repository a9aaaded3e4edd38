import { MANIFEST_ENTRY } from "../bundle/limits.js";
import { MANIFEST_MAX_BYTES } from "../manifest/limits.js";
import { openZip, ZipFormatError } from "../archive/zip-reader.js";
import { invalidDataError } from "./applications.js";
import { platformText } from "./zip-check.js";

/**
 * The platform takes exactly two entries (platform.md §2); a zip with thousands is not a
 * service, and listing each one would cost more than refusing it.
 */
export const MAX_UPLOAD_ENTRIES = 100;
/**
 * The platform parses manifests with Jackson, whose StreamReadConstraints stop at 1000 levels
 * (maxNestingDepth, Jackson 2.15). A real manifest has at most five (a probe's httpGet
 * headers); the sandbox stops at 100, long before the checks could take their time over it.
 */
export const MAX_MANIFEST_NESTING = 100;

/**
 * Cheap refusals before the full check: too many entries, a manifest nested too deep.
 * A zip that is not readable passes here; the full check names what is wrong with it.
 * @throws {ApiError} 422 with the platform's prefix for an invalid binary
 */
export async function preflightUpload(path: string): Promise<void> {
  let zip;
  try {
    zip = await openZip(path);
  } catch (error) {
    if (error instanceof ZipFormatError) return;
    throw error;
  }
  try {
    if (zip.entries.length > MAX_UPLOAD_ENTRIES) {
      throw invalidDataError(
        platformText("zip-entries", `The zip holds ${zip.entries.length} entries; the platform takes exactly ${MANIFEST_ENTRY} and image.tar (c8y-ms pack writes nothing else).`),
      );
    }
    const manifest = zip.entries.find((e) => e.name === MANIFEST_ENTRY);
    if (!manifest || manifest.size > MANIFEST_MAX_BYTES) return;
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openEntry(MANIFEST_ENTRY)) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString("utf8");
    } catch (error) {
      if (error instanceof ZipFormatError) return;
      throw error;
    }
    const depth = nestingDepth(text, MAX_MANIFEST_NESTING);
    if (depth > MAX_MANIFEST_NESTING) {
      throw invalidDataError(platformText("json-syntax", `${MANIFEST_ENTRY} nests objects and arrays more than ${MAX_MANIFEST_NESTING} levels deep; a manifest needs at most five.`));
    }
  } finally {
    await zip.close();
  }
}

/**
 * How deep objects and arrays nest in JSON text, counting no brackets inside strings; stops
 * counting once past `stopAt`. Linear in the text and needs no parse.
 */
export function nestingDepth(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > stopAt) return deepest;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return deepest;
}
