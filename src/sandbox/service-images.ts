import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { IMAGE_ENTRY } from "../bundle/limits.js";
import { openZip } from "../archive/zip-reader.js";
import type { RunOptions, RunResult } from "../exec.js";
import { anonymousImageTar } from "./anonymous-image.js";
import { imageCommandArgs, parseImageCommand } from "./run-spec.js";

export type EngineRun = (args: string[], options?: RunOptions) => Promise<RunResult>;

/**
 * The sandbox's own names for uploaded images: `c8y-ms-sandbox-<data directory>/<name>:v<version id>`.
 * The data directory's part keeps two sandboxes (two data directories) out of each other's
 * images; nothing else is ever tagged or untagged by the sandbox.
 */
export function sandboxImagePrefix(dataDir: string): string {
  return `c8y-ms-sandbox-${createHash("sha256").update(dataDir).digest("hex").slice(0, 10)}/`;
}

export function sandboxImageRef(prefix: string, name: string, versionId: string): string {
  return `${prefix}${name}:v${versionId}`;
}

/**
 * Loads a version's image from its zip under the sandbox's own name: the archive goes to the
 * engine without the names it carries (anonymous-image.ts), and the image is tagged by the id
 * the engine reports, or else by the config digest the upload check found.
 */
export async function loadServiceImage(engine: EngineRun, zipPath: string, ref: string, checkedId: string): Promise<void> {
  const zip = await openZip(zipPath);
  let loaded: string | undefined;
  let unreadable: unknown;
  try {
    const image = await zip.openEntry(IMAGE_ENTRY);
    // A stream that failed would leave `load` waiting for the rest: end it early instead, so the
    // engine gives up, and report why the archive could not be read.
    const input = Readable.from(endingOnError(anonymousImageTar(image), (error) => (unreadable = error)));
    const result = await engine(["load"], { input }).catch((error: unknown) => {
      throw unreadable ?? error;
    });
    // docker: "Loaded image ID: sha256:..."; podman: "Loaded image: sha256:...".
    loaded = /Loaded image(?: ID)?(?:\(s\))?: (sha256:[0-9a-f]{64})/.exec(result.stdout)?.[1];
  } finally {
    await zip.close();
  }
  await engine(["tag", loaded ?? checkedId, ref]);
}

async function* endingOnError(source: AsyncIterable<Buffer>, failed: (error: unknown) => void): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (error) {
    failed(error);
  }
}

/** The image's entrypoint and command, which the launcher starts. */
export async function imageCommand(engine: EngineRun, ref: string): Promise<string[]> {
  return parseImageCommand((await engine(imageCommandArgs(ref))).stdout);
}

/** Every tag of this data directory's sandbox (podman prints them with its `localhost/`). */
export async function sandboxImageRefs(engine: EngineRun, prefix: string): Promise<string[]> {
  const { stdout } = await engine(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
  return stdout
    .split("\n")
    .map((line) => line.trim().replace(/^localhost\//, ""))
    .filter((ref) => ref.startsWith(prefix));
}
