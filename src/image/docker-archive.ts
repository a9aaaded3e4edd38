import { escapes, jsonIn, objectOf, type Catalog } from "./catalog.js";
import type { ImageReference, ReaderReport } from "./image-reference.js";

/**
 * The classic docker-archive (`docker save` up to 24, `podman save`): `manifest.json` lists
 * each image's config, tags and layer tars by path (Docker image spec v1.2, "Combined Image
 * JSON + Filesystem Changeset Format"). Read only: what the platform thinks of it is image-layout.ts's.
 */
export function readDockerArchive(catalog: Catalog, report: ReaderReport): ImageReference[] {
  const manifest = jsonIn(catalog, "manifest.json");
  if (manifest === undefined) {
    report("image-format", "manifest.json in the archive is not valid JSON.");
    return [];
  }
  if (!Array.isArray(manifest)) {
    report("image-format", "manifest.json is not a list of images.");
    return [];
  }
  const images: ImageReference[] = [];
  for (const [index, item] of manifest.entries()) {
    const entry = objectOf(item);
    const configName = typeof entry?.Config === "string" ? entry.Config : undefined;
    const layerNames = Array.isArray(entry?.Layers) && entry.Layers.every((l) => typeof l === "string") ? (entry.Layers as string[]) : undefined;
    if (!configName || !layerNames) {
      report("image-format", `manifest.json entry ${index} lacks Config or Layers.`);
      continue;
    }
    // The paths are joined to where the archive unpacks (Docker's loader refuses a "breakout").
    const outside = [configName, ...layerNames].find(escapes);
    if (outside !== undefined) {
      report("image-format", `manifest.json entry ${index} names ${JSON.stringify(outside)}, outside the archive.`);
      continue;
    }
    const tags = entry?.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) {
      report("image-format", `manifest.json entry ${index} has RepoTags that are not a list of names.`);
      continue;
    }
    images.push({
      source: "docker-archive",
      repoTags: tags,
      configName,
      configDigest: digestFromPath(configName),
      layers: layerNames.map((name) => ({ name, digest: digestFromPath(name), mediaType: undefined, size: undefined })),
    });
  }
  return images;
}

/** `blobs/sha256/<hex>` (Docker 25+) and `<hex>.json` configs name their digest. */
function digestFromPath(path: string): string | undefined {
  const blob = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  if (blob) return `sha256:${blob[1]}`;
  const config = /^([a-f0-9]{64})\.json$/.exec(path);
  return config ? `sha256:${config[1]}` : undefined;
}
