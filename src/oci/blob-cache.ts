import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Env } from "../context.js";
import { CancelledError, CliError } from "../errors.js";
import { commitTemp, discardTemp, tempPathFor } from "../fs/atomic.js";

/**
 * Base images kept on disk by content: `blobs/sha256/<hex>` holds configs, manifests and
 * uncompressed layers under the digest of their bytes (a layer under its diff id), and
 * `refs/` remembers which config a reference was resolved to. A blob enters the cache only
 * after its digest matched, and is hashed again every time it is read.
 */
export class BlobCache {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    return join(this.dir, "blobs", ...splitDigest(digest));
  }

  async has(digest: string): Promise<boolean> {
    return (await stat(this.blobPath(digest)).catch(() => undefined))?.isFile() ?? false;
  }

  /** A small blob (config, manifest), checked against its digest. */
  async readSmall(digest: string): Promise<Buffer | undefined> {
    const data = await readFile(this.blobPath(digest)).catch(() => undefined);
    if (!data) return undefined;
    if (`sha256:${sha256(data)}` !== digest) {
      await rm(this.blobPath(digest), { force: true });
      return undefined;
    }
    return data;
  }

  async writeSmall(digest: string, data: Buffer, what: string): Promise<void> {
    if (`sha256:${sha256(data)}` !== digest) throw new BlobDigestError(`${what} ${digest} arrived as sha256:${sha256(data)}: the bytes do not match their digest.`, { hint: DIGEST_HINT });
    await this.#commit(digest, async (temp) => {
      const handle = await open(temp, "wx");
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    });
  }

  /** Streams `chunks` into the cache under `digest`; the file appears only if the bytes hash to it. */
  async writeStream(digest: string, chunks: AsyncIterable<Buffer>, signal: AbortSignal): Promise<number> {
    let size = 0;
    await this.#commit(digest, async (temp) => {
      const hash = createHash("sha256");
      const handle = await open(temp, "wx");
      try {
        for await (const chunk of chunks) {
          if (signal.aborted) throw new CancelledError();
          hash.update(chunk);
          await handle.write(chunk, 0, chunk.length, size);
          size += chunk.length;
        }
      } finally {
        await handle.close();
      }
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== digest) throw new BlobDigestError(`The layer ${digest} arrived as ${actual}: the bytes do not match their digest.`, { hint: DIGEST_HINT });
    });
    return size;
  }

  /**
   * The blob's bytes, hashed as they are read: the last chunk is withheld until the digest
   * matched, so a damaged cache entry never reaches an image whole.
   */
  async *readVerified(digest: string, signal: AbortSignal): AsyncGenerator<Buffer> {
    const path = this.blobPath(digest);
    const hash = createHash("sha256");
    let pending: Buffer | undefined;
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (signal.aborted) throw new CancelledError();
      hash.update(chunk);
      if (pending) yield pending;
      pending = chunk;
    }
    const actual = `sha256:${hash.digest("hex")}`;
    if (actual !== digest) {
      await rm(path, { force: true });
      throw new BlobDigestError(`The cached layer ${digest} no longer matches its digest (it hashes to ${actual}); it was removed from the cache.`, { hint: "Build again: the layer is fetched anew." });
    }
    if (pending) yield pending;
  }

  async readRef(key: string): Promise<string | undefined> {
    const text = await readFile(this.#refPath(key), "utf8").catch(() => undefined);
    const digest = text?.trim();
    return digest && /^sha256:[a-f0-9]{64}$/.test(digest) ? digest : undefined;
  }

  async writeRef(key: string, digest: string): Promise<void> {
    const path = this.#refPath(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = tempPathFor(path);
    await writeFile(temp, `${digest}\n`, { flag: "wx" });
    await commitTemp(temp, path);
  }

  #refPath(key: string): string {
    return join(this.dir, "refs", sha256(Buffer.from(key)));
  }

  async #commit(digest: string, write: (temp: string) => Promise<void>): Promise<void> {
    const target = this.blobPath(digest);
    await mkdir(dirname(target), { recursive: true });
    const temp = tempPathFor(target);
    try {
      await write(temp);
      await commitTemp(temp, target);
    } catch (error) {
      await discardTemp(temp);
      throw error;
    }
  }
}

const DIGEST_HINT = "The registry or the archive sent damaged data, or something in between changed it; nothing was kept. Build again, and if it persists check the base image's source.";

/** A blob whose bytes do not hash to its digest. Exit 1. */
export class BlobDigestError extends CliError {
  override readonly code = "DIGEST_MISMATCH";
}

/** `$XDG_CACHE_HOME/c8y-ms`, else `~/.cache/c8y-ms` (the XDG base directory default). */
export function cacheDir(env: Env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith("/") ? xdg : join(env.HOME || homedir(), ".cache"), "c8y-ms");
}

function splitDigest(digest: string): [string, string] {
  const match = /^(sha256):([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new BlobDigestError(`${digest} is not a sha256 digest.`, { hint: "Use a reference pinned to a sha256 digest." });
  return [match[1]!, match[2]!];
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
