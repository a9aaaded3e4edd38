import type { Readable } from "node:stream";
import { streamSource } from "../archive/byte-source.js";
import { paddingOf, readTarEntries, TarFormatError } from "../archive/tar.js";
import { TAR_END, tarHeader } from "../archive/tar-writer.js";

/**
 * An uploaded image.tar as the engine may load it: without any name of its own. `docker load`
 * and `podman load` tag what an archive's `manifest.json` (RepoTags), legacy `repositories`
 * file or OCI `index.json` (name annotations) call it, so an upload naming a local image
 * (`c8y-ms-base/node:local`, `postgres:16`) would move that tag onto itself. Here those names
 * are taken out while the archive streams to the engine; every other entry passes unchanged,
 * layers chunk by chunk. The sandbox then tags the image by its id (containers.ts).
 */
export async function* anonymousImageTar(archive: Readable): AsyncGenerator<Buffer> {
  for await (const entry of readTarEntries(streamSource(archive), "image.tar")) {
    if (entry.name === "repositories") continue;
    if (entry.type === "directory") {
      yield tarHeader({ name: entry.name, size: 0, type: "directory" });
    } else if (entry.type === "symlink") {
      yield tarHeader({ name: entry.name, size: 0, type: "symlink", linkName: entry.linkName });
    } else if (entry.type !== "file") {
      throw new TarFormatError(`image.tar holds ${entry.name}, a ${entry.type} entry that docker save never writes.`);
    } else if (entry.name === "manifest.json" || entry.name === "index.json") {
      if (entry.size > MAX_INDEX_BYTES) throw new TarFormatError(`image.tar's ${entry.name} has ${entry.size} bytes; an image index is a few kilobytes.`);
      const text = JSON.stringify(entry.name === "manifest.json" ? withoutRepoTags(parse(await entry.readContent(), entry.name)) : withoutRefNames(parse(await entry.readContent(), entry.name)));
      const data = Buffer.from(text);
      yield tarHeader({ name: entry.name, size: data.length });
      yield data;
      yield Buffer.alloc(paddingOf(data.length));
    } else {
      yield tarHeader({ name: entry.name, size: entry.size });
      for await (const chunk of entry.readChunks()) yield chunk;
      yield Buffer.alloc(paddingOf(entry.size));
    }
  }
  yield TAR_END;
}

/** manifest.json and index.json are small; the zip check (image-tar.ts) read them already. */
const MAX_INDEX_BYTES = 1024 * 1024;

/** Annotations by which containerd (Docker's containerd store) and Podman name an OCI image. */
const NAME_ANNOTATIONS = ["io.containerd.image.name", "org.opencontainers.image.ref.name"];

function parse(content: Buffer, name: string): unknown {
  try {
    return JSON.parse(content.toString("utf8"));
  } catch {
    throw new TarFormatError(`image.tar's ${name} is not JSON.`);
  }
}

/** `[{Config, RepoTags, Layers}]` with every RepoTags emptied. */
export function withoutRepoTags(manifest: unknown): unknown {
  if (!Array.isArray(manifest)) return manifest;
  return manifest.map((image: unknown) => (isObject(image) ? { ...image, RepoTags: null } : image));
}

/** An OCI index whose manifests carry no name annotations. */
export function withoutRefNames(index: unknown): unknown {
  if (!isObject(index) || !Array.isArray(index.manifests)) return index;
  const manifests = index.manifests.map((descriptor: unknown) => {
    if (!isObject(descriptor) || !isObject(descriptor.annotations)) return descriptor;
    const annotations = Object.fromEntries(Object.entries(descriptor.annotations).filter(([key]) => !NAME_ANNOTATIONS.includes(key)));
    return { ...descriptor, annotations };
  });
  return { ...index, manifests };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
