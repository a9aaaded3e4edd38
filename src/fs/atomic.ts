import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { writeFailure } from "./write-errors.js";

/**
 * Paths that are half-written right now. If the process ends before they are committed or
 * discarded (Ctrl-C, a crash, process.exit), the exit hook removes them: users never find a
 * truncated zip or a stray temporary directory.
 */
const pending = new Set<string>();
let hooked = false;

function track(path: string): void {
  pending.add(path);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const p of pending) rmSync(p, { recursive: true, force: true });
    });
  }
}

/** A temporary name beside `target`, so the final rename stays on one file system. */
export function tempPathFor(target: string): string {
  const path = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  track(path);
  return path;
}

export async function commitTemp(tempPath: string, target: string): Promise<void> {
  await rename(tempPath, target);
  pending.delete(tempPath);
}

export async function discardTemp(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  pending.delete(path);
}

/**
 * Runs `write` against a temporary path and renames it to `target` only if it succeeds. A full
 * disk or a file size limit becomes one clear error (src/fs/write-errors.ts).
 */
export async function withAtomicFile<T>(target: string, write: (tempPath: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
    throw writeFailure(dirname(target), error);
  });
  const temp = tempPathFor(target);
  try {
    const result = await write(temp);
    await commitTemp(temp, target);
    return result;
  } catch (error) {
    await discardTemp(temp);
    throw writeFailure(target, error);
  }
}

/**
 * Writes `data` under a temporary name, flushes it to disk, then renames it to `target`: a
 * crash leaves the old file or the new one, never a mix. `mode` applies from the first byte,
 * so a file holding secrets is never readable by others, not even briefly.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  await withAtomicFile(target, async (temp) => {
    const handle = await open(temp, "wx", options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** A private scratch directory, removed by `discardTemp` or at the latest when the process exits. */
export function makeScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `c8y-ms-${prefix}-`));
  track(dir);
  return dir;
}
