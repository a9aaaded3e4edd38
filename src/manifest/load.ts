import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { CliError, UsageError } from "../errors.js";
import { diagnoseManifestText, oversized, toReport, type ManifestReport } from "./check.js";
import { MANIFEST_MAX_BYTES } from "./limits.js";
import { RULES } from "./rules.js";
import type { Manifest } from "./schema.js";

export { checkManifestText, type ManifestReport } from "./check.js";
export { ManifestInvalidError } from "./diagnostics.js";
export type { Manifest } from "./schema.js";

/** The names a project's manifest may have, in the order we look for them. */
export const MANIFEST_FILE_NAMES: readonly string[] = ["cumulocity.json", "cumulocity.yaml", "cumulocity.yml"];

/** The project's manifest file in `dir`, or undefined when there is none. */
export async function findManifestFile(dir: string): Promise<string | undefined> {
  return (await manifestFilesIn(dir))[0];
}

async function manifestFilesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of MANIFEST_FILE_NAMES) {
    const path = join(dir, name);
    if (await isFile(path)) found.push(path);
  }
  return found;
}

/** A path that is not there: a usage error (exit 2), since the user named it. */
export class ManifestNotFoundError extends UsageError {
  override readonly code = "MANIFEST_NOT_FOUND";

  constructor(path: string, isDirectory: boolean) {
    super(isDirectory ? `No ${MANIFEST_FILE_NAMES.join(", ").replace(/, ([^,]*)$/, " or $1")} in ${path}.` : `${path} does not exist.`, {
      hint: isDirectory
        ? "Run c8y-ms in the service's directory or pass the manifest's path; `c8y-ms init` creates a new service."
        : "Check the path; c8y-ms accepts a project directory, a cumulocity.json or .yaml file, or a built .zip.",
    });
  }
}

/**
 * Reads and checks a manifest file, or the manifest of a project directory. A missing path
 * throws ManifestNotFoundError (exit 2); an unreadable one a CliError (exit 1). Problems in
 * the manifest itself are in the report: the caller decides whether they stop it.
 */
export async function loadManifest(path: string): Promise<ManifestReport> {
  const info = await stat(path).catch((error: unknown) => {
    throw isMissing(error) ? new ManifestNotFoundError(path, false) : unreadable(path, error);
  });
  let file = path;
  let others: string[] = [];
  if (info.isDirectory()) {
    const candidates = await manifestFilesIn(path);
    const [first, ...rest] = candidates;
    if (!first) throw new ManifestNotFoundError(path, true);
    file = first;
    others = rest;
  }
  const bytes = await readManifestFile(file);
  const diagnosed = bytes.length > MANIFEST_MAX_BYTES ? oversized({ file }) : diagnoseManifestText(decode(bytes), { file });
  if (others.length > 0) {
    const names = others.map((o) => o.slice(o.lastIndexOf("/") + 1)).join(" and ");
    diagnosed.diagnostics.push({
      file,
      line: 1,
      column: 1,
      pointer: "",
      message: `${names} ${others.length > 1 ? "are" : "is"} ignored: c8y-ms reads ${file.slice(file.lastIndexOf("/") + 1)}; delete the other file(s) so nobody edits the wrong one.`,
      rule: "multiple-manifests",
      severity: RULES["multiple-manifests"].severity,
    });
  }
  return toReport(diagnosed);
}

/**
 * At most one byte more than the cap, whatever the file claims: a device or a pipe
 * (`validate /dev/zero`) has no size to trust and may never end.
 */
async function readManifestFile(file: string): Promise<Buffer> {
  try {
    const handle = await open(file, "r");
    try {
      const chunks: Buffer[] = [];
      let length = 0;
      while (length <= MANIFEST_MAX_BYTES) {
        const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, Math.min(64 * 1024, MANIFEST_MAX_BYTES + 1 - length), null);
        if (bytesRead === 0) break;
        chunks.push(buffer.subarray(0, bytesRead));
        length += bytesRead;
      }
      return Buffer.concat(chunks, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw isMissing(error) ? new ManifestNotFoundError(file, false) : unreadable(file, error);
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function unreadable(file: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = { EACCES: "permission denied", EPERM: "permission denied", ELOOP: "a loop of symbolic links" };
  const reason = (code && reasons[code]) ?? (error as Error).message;
  return new CliError(`Cannot read ${file}: ${reason}.`, { hint: "Check the path and its permissions, or pass another path.", cause: error });
}

/** UTF-8 as usual; UTF-16 files (some Windows editors write them) are decoded too, and `pack` writes UTF-8. */
function decode(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString("utf16le");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString("utf16le");
  }
  return bytes.toString("utf8");
}

/** The manifest `pack` writes into the zip: the user's fields in their order, as JSON; `$schema` is an editor hint and stays out. */
export function manifestJson(manifest: Manifest): string {
  const { $schema: _editorHint, ...fields } = manifest;
  return `${JSON.stringify(fields, null, 2)}\n`;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
