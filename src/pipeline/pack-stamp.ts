import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";

/**
 * What `pack` remembers about each zip it wrote, in the project's `.c8y-ms/pack.json`: when
 * the image and the manifest are the same as then, and the zip is still the one it wrote, the
 * next pack reuses it instead of saving and compressing hundreds of megabytes again.
 */
export interface PackStamp {
  /** The image as the engine or the archive names it (engine id, or config digest of a saved tar). */
  source: string;
  /** What names the image inside the zip (the tag asked for, or the saved archive's own tags). */
  naming: string;
  /** sha256 of the manifest as written into the zip. */
  manifest: string;
  level: number;
  zip: { bytes: number; sha256: string; mtimeMs: number };
  image: { ref: string; id: string; architecture: string; bytes: number };
}

/** Bump when the zip's layout changes, so older zips are packed again. */
const FORMAT = 2;

interface StampFile {
  format: number;
  zips: Record<string, PackStamp>;
}

function stampPath(projectDir: string): string {
  return join(projectDir, ".c8y-ms", "pack.json");
}

async function readStamps(projectDir: string): Promise<StampFile> {
  try {
    const parsed = JSON.parse(await readFile(stampPath(projectDir), "utf8")) as StampFile;
    if (parsed.format === FORMAT && parsed.zips && typeof parsed.zips === "object") return parsed;
  } catch {
    // Missing or unreadable: nothing is up to date, which is always safe.
  }
  return { format: FORMAT, zips: {} };
}

/** The stamp of `zipPath` if the zip there is still exactly what was recorded and the inputs match. */
export async function upToDateStamp(projectDir: string, zipPath: string, wanted: Pick<PackStamp, "source" | "naming" | "manifest" | "level">): Promise<PackStamp | undefined> {
  const stamp = (await readStamps(projectDir)).zips[zipPath];
  if (!stamp || stamp.source !== wanted.source || stamp.naming !== wanted.naming || stamp.manifest !== wanted.manifest || stamp.level !== wanted.level) return undefined;
  const info = await stat(zipPath).catch(() => undefined);
  if (!info || info.size !== stamp.zip.bytes || info.mtimeMs !== stamp.zip.mtimeMs) return undefined;
  return stamp;
}

export async function recordStamp(projectDir: string, zipPath: string, stamp: Omit<PackStamp, "zip"> & { zip: Omit<PackStamp["zip"], "mtimeMs"> }): Promise<void> {
  const info = await stat(zipPath);
  const file = await readStamps(projectDir);
  file.zips[zipPath] = { ...stamp, zip: { ...stamp.zip, mtimeMs: info.mtimeMs } };
  await writeFileAtomic(stampPath(projectDir), `${JSON.stringify(file, null, 2)}\n`);
}
