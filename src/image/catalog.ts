import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { TarEntry } from "../archive/tar.js";

/**
 * The entries of a saved image archive, by path, with what the reader learnt of their data
 * (image-tar.ts builds it, streaming or in place). The format readers (docker-archive.ts,
 * oci-layout.ts) and the policy (image-layout.ts) only look things up in it.
 */
export type LayerCompression = "none" | "gzip" | "zstd";

export interface CatalogEntry extends TarEntry {
  /** The data of small files that look like JSON (manifests, indexes, configs). */
  content?: Buffer;
  /** sha256 (hex) of the data, when the builder hashed it (stream inspection does). */
  sha256?: string;
  /** From the data's first bytes. */
  compression?: LayerCompression;
}

export type Catalog = Map<string, CatalogEntry>;

export function catalogKey(name: string): string {
  const normal = posix.normalize(`/${name}`).slice(1);
  return normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** Absolute, or with more `..` than folders above it: outside the directory the archive unpacks into. */
export function escapes(name: string): boolean {
  if (name.startsWith("/") || name.includes("\0")) return true;
  let depth = 0;
  for (const part of name.split("/")) {
    if (part === "..") depth--;
    else if (part !== "" && part !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** Follows symlinks and hard links (podman's docker-archive links layer.tar to the blob). */
export function findFile(catalog: Catalog, path: string): CatalogEntry | undefined {
  let key = catalogKey(path);
  for (let hops = 0; hops < 8; hops++) {
    const entry = catalog.get(key);
    if (!entry) return undefined;
    if (entry.type === "file") return entry;
    if (entry.type === "symlink") key = catalogKey(posix.join(posix.dirname(key), entry.linkName));
    else if (entry.type === "hardlink") key = catalogKey(entry.linkName);
    else return undefined;
  }
  return undefined;
}

/** The JSON value of a small file, or undefined when it is missing, too large to be kept, or not JSON. */
export function jsonIn(catalog: Catalog, path: string): unknown {
  const entry = findFile(catalog, path);
  return entry?.content ? parseJson(entry.content) : undefined;
}

export function parseJson(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Compression from a layer's first bytes. */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function arrayOfStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
