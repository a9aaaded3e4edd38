import { stat } from "node:fs/promises";
import type { Diagnostic } from "../diagnostics.js";
import { formatBytes } from "../format.js";
import { openZip, ZipFormatError, type ZipEntry, type ZipReader } from "../archive/zip-reader.js";
import { checkManifestText, type ManifestReport } from "../manifest/load.js";
import { MANIFEST_MAX_BYTES } from "../manifest/limits.js";
import { IMAGE_ENTRY, MANIFEST_ENTRY } from "./limits.js";
import { BUNDLE_RULES, type BundleRuleId } from "./rules.js";

/**
 * A deployable zip, opened once: its directory, and its cumulocity.json read once and checked.
 * Everything that looks at an upload (validate, deploy, the sandbox) starts here; `checkBundle`
 * adds what needs the whole zip (size limit, image.tar and its digests).
 */
export interface Bundle {
  readonly file: string;
  readonly bytes: number;
  readonly zip: ZipReader;
  readonly entries: readonly ZipEntry[];
  /** cumulocity.json checked; undefined when the zip has none or it could not be read (`findings` say why). */
  readonly manifest: ManifestReport | undefined;
  /** What the directory and the manifest's reading show: missing, misplaced, extra or doubled entries, an unreadable manifest. */
  readonly findings: readonly Diagnostic[];
  close(): Promise<void>;
}

/** @throws {ZipFormatError} when the file is not a zip the platform can read */
export async function openBundle(file: string): Promise<Bundle> {
  const bytes = (await stat(file)).size;
  const zip = await openZip(file);
  try {
    const findings = entryFindings(file, zip.entries);
    const manifest = fileEntry(zip.entries, MANIFEST_ENTRY) ? await readManifest(file, zip, findings) : undefined;
    return { file, bytes, zip, entries: zip.entries, manifest, findings, close: () => zip.close() };
  } catch (error) {
    await zip.close();
    throw error;
  }
}

/** A finding of one of the zip's own rules; `entry` places it inside the zip. Archives have no lines: 1:1. */
export function bundleFinding(file: string, rule: BundleRuleId, message: string, entry?: string): Diagnostic {
  return { file, entry, line: 1, column: 1, pointer: "", message, rule, severity: BUNDLE_RULES[rule].severity };
}

/**
 * Names and kinds of entries, in one pass. The platform reads cumulocity.json and image.tar at
 * the root; everything else is reported once, so a zip of 150,000 entries gives a handful of
 * findings, not one per entry.
 */
function entryFindings(file: string, entries: readonly ZipEntry[]): Diagnostic[] {
  const findings: Diagnostic[] = [];
  const counts = new Map<string, number>();
  for (const { name } of entries) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const [name, count] of counts) {
    if (count > 1) findings.push(bundleFinding(file, "zip-duplicate-entry", `The zip holds ${count} entries named ${name}; which one the platform reads is not defined. Pack the zip again.`));
  }
  for (const wanted of [MANIFEST_ENTRY, IMAGE_ENTRY]) {
    const found = entries.find((e) => e.name === wanted);
    if (found && found.type !== "file") {
      findings.push(bundleFinding(file, "zip-entry-type", `${wanted} is a ${found.type === "symlink" ? "symbolic link" : "directory"} in the zip, not a file; pack the zip again.`, wanted));
    }
    if (found) continue;
    const near = [...counts.keys()].find((n) => n.toLowerCase() === wanted || n.toLowerCase().endsWith(`/${wanted}`));
    findings.push(bundleFinding(file, "zip-entries", near ? `${wanted} must be at the zip's root with that exact name; found ${near}.` : `The zip has no ${wanted}.`));
  }
  const others = [...counts.keys()].filter((n) => n !== MANIFEST_ENTRY && n !== IMAGE_ENTRY);
  const unsafe = others.filter(isUnsafeName);
  const extra = others.filter((n) => !isUnsafeName(n));
  if (unsafe.length > 0) {
    const verb = unsafe.length === 1 ? "points" : "point";
    findings.push(bundleFinding(file, "zip-entry-name", `The zip holds ${listed(unsafe, "an entry named", "entries named")}, which ${verb} outside the folder it unpacks into (a zip-slip name); the platform takes only ${MANIFEST_ENTRY} and ${IMAGE_ENTRY} at the root.`));
  }
  if (extra.length > 0) {
    findings.push(bundleFinding(file, "zip-extra-entry", `The zip also holds ${listed(extra, "", "")}; the platform takes exactly ${MANIFEST_ENTRY} and ${IMAGE_ENTRY} (c8y-ms pack writes nothing else).`));
  }
  return findings;
}

/** Absolute paths, drive letters, backslashes, `..` segments and NULs: names unzip would write outside its folder, or refuse. */
function isUnsafeName(name: string): boolean {
  return name === "" || name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.includes("\\") || name.includes("\0") || name.split("/").includes("..");
}

/** `"a", "b" and 3 more`: the first few names, and how many others. */
function listed(names: readonly string[], one: string, many: string): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(", ");
  const more = names.length > 5 ? ` and ${names.length - 5} more` : "";
  const prefix = names.length === 1 ? one : many;
  return `${prefix ? `${prefix} ` : ""}${shown}${more}`;
}

/** The first entry of a name (a second one is a finding), when it is a file. */
export function fileEntry(entries: readonly ZipEntry[], name: string): ZipEntry | undefined {
  const entry = entries.find((e) => e.name === name);
  return entry?.type === "file" ? entry : undefined;
}

/** Reads cumulocity.json (at most MANIFEST_MAX_BYTES) and checks it; an unreadable one is a finding. */
async function readManifest(file: string, zip: ZipReader, findings: Diagnostic[]): Promise<ManifestReport | undefined> {
  const entry = zip.entries.find((e) => e.name === MANIFEST_ENTRY)!;
  if (entry.size > MANIFEST_MAX_BYTES) {
    findings.push(bundleFinding(file, "zip-entries", `${MANIFEST_ENTRY} has ${formatBytes(entry.size)}; a manifest is a few kilobytes.`, MANIFEST_ENTRY));
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    // The reader fails an entry longer than its directory says, so this stays within the limit.
    for await (const chunk of await zip.openEntry(MANIFEST_ENTRY)) chunks.push(chunk as Buffer);
    // TextDecoder drops a UTF-8 byte order mark, as the platform's JSON parser does.
    return checkManifestText(new TextDecoder("utf-8").decode(Buffer.concat(chunks)), file, MANIFEST_ENTRY);
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    findings.push(bundleFinding(file, "zip-corrupt", error.message, MANIFEST_ENTRY));
    return undefined;
  }
}
