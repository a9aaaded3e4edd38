import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { posix } from "node:path";
import { paddingOf } from "../archive/tar.js";
import { TAR_END, tarHeader } from "../archive/tar-writer.js";
import { CancelledError, CliError } from "../errors.js";

/**
 * The layer c8y-ms writes: a file system tree built up by COPY steps, then written as one tar
 * with entries sorted by path, time 0, the owner each entry was given (root unless --chown)
 * and the source's mode bits. Equal sources give equal bytes, so equal diff ids.
 */
export interface LayerEntry {
  /** Relative to the image's root, slash-separated, no trailing slash. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits, setuid/setgid/sticky included. */
  mode: number;
  uid: number;
  gid: number;
  /** For files: where the content is read from, and its size. */
  source?: string;
  size: number;
  linkName?: string;
}

export interface Owner {
  uid: number;
  gid: number;
}

export const ROOT: Owner = { uid: 0, gid: 0 };

export class LayerTree {
  readonly #entries = new Map<string, LayerEntry>();

  /** Adds (or replaces) an entry, creating missing parent directories as root with 0755, as Docker does. */
  add(entry: LayerEntry): void {
    const path = normalise(entry.path);
    if (path === "") return;
    this.ensureDirectory(posix.dirname(path), ROOT);
    const existing = this.#entries.get(path);
    if (existing?.type === "directory" && entry.type !== "directory") {
      for (const key of this.#entries.keys()) if (key.startsWith(`${path}/`)) this.#entries.delete(key);
    }
    this.#entries.set(path, { ...entry, path });
  }

  /** A directory that COPY or WORKDIR needs; one already there keeps its metadata. */
  ensureDirectory(path: string, owner: Owner): void {
    const normal = normalise(path);
    if (normal === "" || normal === ".") return;
    if (this.#entries.get(normal)?.type === "directory") return;
    this.ensureDirectory(posix.dirname(normal), ROOT);
    this.#entries.set(normal, { path: normal, type: "directory", mode: 0o755, ...owner, size: 0 });
  }

  isDirectory(path: string): boolean {
    return this.#entries.get(normalise(path))?.type === "directory";
  }

  /** Sorted by path: the order the tar is written in. */
  entries(): LayerEntry[] {
    return [...this.#entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

function normalise(path: string): string {
  return posix.normalize(`/${path}`).slice(1).replace(/\/+$/, "");
}

export interface WrittenLayer {
  path: string;
  /** sha256 of the tar: the layer's diff id. */
  diffId: string;
  size: number;
}

/** A file changed while it was being copied into the layer. */
export class SourceChangedError extends CliError {
  override readonly code = "SOURCE_CHANGED";
}

/** Writes the tree as an uncompressed layer tar at `path`, hashing as it goes. */
export async function writeLayer(tree: LayerTree, path: string, signal: AbortSignal): Promise<WrittenLayer> {
  const handle = await open(path, "w");
  const hash = createHash("sha256");
  let size = 0;
  const write = async (data: Buffer) => {
    hash.update(data);
    await handle.write(data, 0, data.length, size);
    size += data.length;
  };
  try {
    for (const entry of tree.entries()) {
      if (signal.aborted) throw new CancelledError();
      const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
      const header = { name, size: entry.size, type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid };
      await write(tarHeader(entry.linkName === undefined ? header : { ...header, linkName: entry.linkName }));
      if (entry.type !== "file") continue;
      let copied = 0;
      if (entry.size > 0) {
        for await (const chunk of createReadStream(entry.source!, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
          copied += chunk.length;
          if (copied > entry.size) break;
          await write(chunk);
        }
      }
      if (copied !== entry.size) {
        throw new SourceChangedError(`${entry.source} changed while it was copied into the image.`, { hint: "Build again once nothing writes to the project's files." });
      }
      await write(Buffer.alloc(paddingOf(entry.size)));
    }
    await write(TAR_END);
  } finally {
    await handle.close();
  }
  return { path, diffId: `sha256:${hash.digest("hex")}`, size };
}
