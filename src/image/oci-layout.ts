import { jsonIn, objectOf, type Catalog } from "./catalog.js";
import type { ImageReference, ReaderReport } from "./image-reference.js";

/**
 * An OCI image layout (Podman's oci-archive, Docker 25+ next to manifest.json): `index.json`
 * points at manifests by digest, which may be indexes themselves (multi-platform images) or
 * Docker's attestation manifests, skipped here (OCI image-layout and image-index specs v1.1).
 */
const INDEX_MEDIA_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const MAX_INDEX_DEPTH = 4;

export function readOciLayout(catalog: Catalog, report: ReaderReport): ImageReference[] {
  const index = objectOf(jsonIn(catalog, "index.json"));
  if (!index) {
    report("image-format", "index.json in the archive is not valid JSON.");
    return [];
  }
  const images: ImageReference[] = [];
  const seen = new Set<string>();
  const walk = (descriptors: unknown, depth: number, inheritedTags: string[]) => {
    if (!Array.isArray(descriptors) || depth > MAX_INDEX_DEPTH) return;
    for (const raw of descriptors) {
      const descriptor = objectOf(raw);
      const digest = typeof descriptor?.digest === "string" ? descriptor.digest : undefined;
      if (!descriptor || !digest || seen.has(digest)) continue;
      seen.add(digest);
      const annotations = objectOf(descriptor.annotations) ?? {};
      // Docker's provenance and SBOM attestations sit in the index as "unknown/unknown" manifests.
      if (annotations["vnd.docker.reference.type"] === "attestation-manifest") continue;
      const tags = refNameOf(annotations) ?? inheritedTags;
      const blobPath = blobPathOf(digest);
      if (!blobPath || !catalog.has(blobPath)) continue; // another platform's manifest, not saved
      const body = objectOf(jsonIn(catalog, blobPath));
      if (!body) {
        report("image-format", `${blobPath} in the archive is not valid JSON.`);
        continue;
      }
      const mediaType = typeof descriptor.mediaType === "string" ? descriptor.mediaType : body.mediaType;
      if (INDEX_MEDIA_TYPES.has(String(mediaType)) || Array.isArray(body.manifests)) {
        walk(body.manifests, depth + 1, tags);
        continue;
      }
      const image = imageOf(digest, body, tags);
      if (image) images.push(image);
      else report("image-format", `The OCI manifest ${digest} lacks its config or layer digests.`);
    }
  };
  walk(index.manifests, 0, []);
  return images;
}

function imageOf(digest: string, body: Record<string, unknown>, repoTags: string[]): ImageReference | undefined {
  const configDigest = typeof objectOf(body.config)?.digest === "string" ? String(objectOf(body.config)!.digest) : undefined;
  const configName = configDigest ? blobPathOf(configDigest) : undefined;
  const layers = (Array.isArray(body.layers) ? body.layers : []).map(objectOf);
  const layerPaths = layers.map((l) => (typeof l?.digest === "string" ? blobPathOf(l.digest) : undefined));
  if (!configName || layerPaths.some((p) => p === undefined)) return undefined;
  return {
    source: "oci-layout",
    repoTags,
    configName,
    configDigest,
    layers: layers.map((l, i) => ({
      name: layerPaths[i]!,
      digest: String(l!.digest),
      mediaType: typeof l!.mediaType === "string" ? l!.mediaType : undefined,
      size: typeof l!.size === "number" ? l!.size : undefined,
    })),
  };
}

function refNameOf(annotations: Record<string, unknown>): string[] | undefined {
  const full = annotations["io.containerd.image.name"];
  if (typeof full === "string" && full) return [full];
  const ref = annotations["org.opencontainers.image.ref.name"];
  // The OCI annotation is often just a tag ("1.0"); only a full reference names the image.
  return typeof ref === "string" && /[:/]/.test(ref) ? [ref] : undefined;
}

/** `sha256:<hex>` to `blobs/sha256/<hex>`; the pattern keeps a digest from naming a path outside `blobs/`. */
function blobPathOf(digest: string): string | undefined {
  const match = /^([a-z0-9]+):([a-f0-9]{32,})$/.exec(digest);
  return match ? `blobs/${match[1]}/${match[2]}` : undefined;
}
