import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { TarEntry } from "../archive/tar.js";
import { IMAGE_RULES, type ImageRuleId } from "./rules.js";

/**
 * What a saved image archive holds, whatever wrote it: the classic docker-archive
 * (`manifest.json` + config + layer tars), an OCI image layout (`index.json` + blobs, from
 * Podman or Docker 25+, possibly a multi-platform index with attestation manifests), or both
 * at once (Docker 25+ `docker save`). Pure: it works on a catalog of the archive's entries.
 */

export type ImageArchiveFormat = "docker-archive" | "oci-layout" | "docker-archive+oci";
export type LayerCompression = "none" | "gzip" | "zstd";

export interface ImageProblem {
  rule: ImageRuleId;
  message: string;
  severity: "error" | "warning";
}

export interface ImageInfo {
  repoTags: string[];
  /** The image id as Docker shows it: the sha256 of the config. */
  id: string;
  architecture?: string;
  os?: string;
  layers: { name: string; size: number }[];
  exposedPorts: string[];
  /** Config and layers, as stored. */
  bytes: number;
}

export interface ImageTarReport {
  format: ImageArchiveFormat;
  images: ImageInfo[];
  problems: ImageProblem[];
}

/** One entry of the archive, with what the catalog builder learnt about its data. */
export interface CatalogEntry extends TarEntry {
  /** The data of small files that look like JSON (manifests, indexes, configs). */
  content?: Buffer;
  /** sha256 (hex) of the data, when the builder hashed it (stream inspection does). */
  sha256?: string;
  /** From the data's first bytes. */
  compression?: LayerCompression;
}

export type Catalog = Map<string, CatalogEntry>;

export interface ResolvedLayer {
  /** The path manifest.json or the OCI manifest names. */
  name: string;
  entry: CatalogEntry;
  /** sha256 of the uncompressed layer, from the config's rootfs. */
  diffId: string | undefined;
  /** Digest of the stored bytes (OCI descriptors, blob paths). */
  digest: string | undefined;
  compression: LayerCompression;
}

export interface ResolvedImage {
  info: ImageInfo;
  configName: string;
  configEntry: CatalogEntry;
  /** The config's bytes, kept as they are so the image id does not change. */
  config: Buffer;
  layers: ResolvedLayer[];
  /** What is wrong with this image (also in the report's list). */
  problems: ImageProblem[];
}

export interface ImageLayout {
  report: ImageTarReport;
  /** The images the platform sees (manifest.json's, else the OCI index's). */
  images: ResolvedImage[];
  /**
   * Docker 25+ archives hold both: the OCI index may have platforms manifest.json does not
   * list (a multi-platform image saved on an arm64 Mac lists arm64 there).
   */
  alternatives: ResolvedImage[];
}

export const AMD64 = { os: "linux", architecture: "amd64" } as const;

const INDEX_MEDIA_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);

export function catalogKey(name: string): string {
  const normal = posix.normalize(`/${name}`).slice(1);
  return normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/**
 * Reads the archive's image descriptions and checks them the way the platform reads them
 * (platform.md §2): one image, linux/amd64, manifest.json whose entry has Config, RepoTags and
 * Layers that all resolve, digests that match where the catalog has them.
 */
export function resolveImageLayout(catalog: Catalog): ImageLayout {
  const problems: ImageProblem[] = [];
  const report: Report = (rule, message) => {
    if (!problems.some((p) => p.rule === rule && p.message === message)) problems.push(problemOf(rule, message));
  };
  const hasManifest = catalog.has("manifest.json");
  const hasIndex = catalog.has("index.json");
  const format: ImageArchiveFormat = hasManifest ? (hasIndex ? "docker-archive+oci" : "docker-archive") : "oci-layout";

  let images: ResolvedImage[] = [];
  let alternatives: ResolvedImage[] = [];
  if (hasManifest) {
    images = fromDockerManifest(catalog, report);
    if (hasIndex) {
      const ignored: Report = () => {};
      alternatives = fromOciIndex(catalog, ignored).filter((a) => !images.some((i) => i.info.id === a.info.id));
      for (const alternative of alternatives) checkImage(alternative);
    }
  } else if (hasIndex) {
    images = fromOciIndex(catalog, report);
    report("image-format", "image.tar is an OCI image layout without manifest.json; the platform reads the docker-archive manifest.json.");
  } else {
    report("image-format", "This is not a saved container image: it has neither manifest.json (docker-archive) nor index.json (OCI layout).");
  }

  if (images.length > 1) {
    report("image-multiple", `The archive holds ${images.length} images (${images.map(describe).join(", ")}); the platform expects exactly one.`);
  }
  for (const image of images) {
    checkImage(image);
    problems.push(...image.problems);
  }
  return { report: { format, images: images.map((i) => i.info), problems }, images, alternatives };
}

type Report = (rule: ImageRuleId, message: string) => void;

function problemOf(rule: ImageRuleId, message: string): ImageProblem {
  return { rule, severity: IMAGE_RULES[rule].severity, message };
}

function fromDockerManifest(catalog: Catalog, report: Report): ResolvedImage[] {
  const manifest = jsonOf(catalog, "manifest.json", report);
  if (!Array.isArray(manifest)) {
    report("image-format", "manifest.json is not a list of images.");
    return [];
  }
  const images: ResolvedImage[] = [];
  for (const [index, item] of manifest.entries()) {
    const entry = objectOf(item);
    const configName = typeof entry?.Config === "string" ? entry.Config : undefined;
    const layerNames = Array.isArray(entry?.Layers) && entry.Layers.every((l) => typeof l === "string") ? (entry.Layers as string[]) : undefined;
    if (!configName || !layerNames) {
      report("image-format", `manifest.json entry ${index} lacks Config or Layers.`);
      continue;
    }
    const repoTags = Array.isArray(entry?.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === "string") : [];
    if (!configName.endsWith(".json")) {
      report("image-config-name", `The config ${configName} has no .json extension (Docker 25+ layout); platforms before 2024-05 reject it ("config file does not have .json extension").`);
    }
    const image = resolveImage(catalog, report, {
      repoTags,
      configName,
      configDigest: digestFromPath(configName),
      layers: layerNames.map((name) => ({ name, digest: digestFromPath(name), mediaType: undefined })),
    });
    if (image) images.push(image);
  }
  return images;
}

function fromOciIndex(catalog: Catalog, report: Report): ResolvedImage[] {
  const images: ResolvedImage[] = [];
  const seen = new Set<string>();
  const walk = (descriptors: unknown, depth: number, inheritedTags: string[]) => {
    if (!Array.isArray(descriptors) || depth > 4) return;
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
      const body = objectOf(jsonOf(catalog, blobPath, report));
      if (!body) continue;
      const mediaType = typeof descriptor.mediaType === "string" ? descriptor.mediaType : body.mediaType;
      if (INDEX_MEDIA_TYPES.has(String(mediaType)) || Array.isArray(body.manifests)) {
        walk(body.manifests, depth + 1, tags);
        continue;
      }
      const config = objectOf(body.config);
      const configDigest = typeof config?.digest === "string" ? config.digest : undefined;
      const configPath = configDigest ? blobPathOf(configDigest) : undefined;
      const layers = Array.isArray(body.layers) ? body.layers.map(objectOf) : [];
      if (!configPath || layers.some((l) => typeof l?.digest !== "string" || !blobPathOf(String(l.digest)))) {
        report("image-format", `The OCI manifest ${digest} lacks its config or layer digests.`);
        continue;
      }
      const image = resolveImage(catalog, report, {
        repoTags: tags,
        configName: configPath,
        configDigest,
        layers: layers.map((l) => ({ name: blobPathOf(String(l!.digest))!, digest: String(l!.digest), mediaType: typeof l!.mediaType === "string" ? l!.mediaType : undefined, size: typeof l!.size === "number" ? l!.size : undefined })),
      });
      if (image) images.push(image);
    }
  };
  const index = objectOf(jsonOf(catalog, "index.json", report));
  walk(index?.manifests, 0, []);
  return images;
}

interface ImageReference {
  repoTags: string[];
  configName: string;
  configDigest: string | undefined;
  layers: { name: string; digest: string | undefined; mediaType: string | undefined; size?: number | undefined }[];
}

function resolveImage(catalog: Catalog, report: Report, ref: ImageReference): ResolvedImage | undefined {
  const configEntry = findFile(catalog, ref.configName);
  const label = ref.repoTags[0] ?? ref.configDigest ?? ref.configName;
  if (!configEntry) {
    report("image-config-missing", `The config ${ref.configName} of ${label} is not in the archive.`);
    return undefined;
  }
  if (!configEntry.content) {
    report("image-format", `The config ${ref.configName} of ${label} is not JSON or is too large to be an image config.`);
    return undefined;
  }
  const config = objectOf(parseJson(configEntry.content));
  if (!config) {
    report("image-format", `The config ${ref.configName} of ${label} is not valid JSON.`);
    return undefined;
  }
  const problems: ImageProblem[] = [];
  const own: Report = (rule, message) => problems.push(problemOf(rule, message));
  const id = `sha256:${configEntry.sha256 ?? sha256(configEntry.content)}`;
  if (ref.configDigest && ref.configDigest !== id) {
    own("image-digest", `The config ${ref.configName} does not match its digest ${ref.configDigest}: the archive is damaged.`);
  }
  const diffIds = arrayOfStrings(objectOf(config.rootfs)?.diff_ids);
  if (diffIds.length !== ref.layers.length) {
    own("image-layer-count", `The config of ${label} lists ${diffIds.length} layers but the archive names ${ref.layers.length}.`);
  }
  const layers: ResolvedLayer[] = [];
  for (const [i, layer] of ref.layers.entries()) {
    const entry = findFile(catalog, layer.name);
    if (!entry) {
      own("image-layer-missing", `The layer ${layer.name} of ${label} is not in the archive.`);
      continue;
    }
    if (layer.size !== undefined && layer.size !== entry.size) {
      own("image-digest", `The layer ${layer.name} has ${entry.size} bytes, its descriptor says ${layer.size}: the archive is damaged.`);
    }
    const compression = compressionOf(layer.mediaType) ?? entry.compression ?? "none";
    layers.push({ name: layer.name, entry, diffId: diffIds[i], digest: layer.digest, compression });
  }
  const settings = objectOf(config.config) ?? {};
  const architecture = typeof config.architecture === "string" ? config.architecture : undefined;
  const os = typeof config.os === "string" ? config.os : undefined;
  const info: ImageInfo = {
    repoTags: ref.repoTags,
    id,
    layers: layers.map((l) => ({ name: l.name, size: l.entry.size })),
    exposedPorts: Object.keys(objectOf(settings.ExposedPorts) ?? {}),
    bytes: configEntry.size + layers.reduce((sum, l) => sum + l.entry.size, 0),
  };
  if (architecture !== undefined) info.architecture = architecture;
  if (os !== undefined) info.os = os;
  return { info, configName: ref.configName, configEntry, config: configEntry.content, layers, problems };
}

function checkImage(image: ResolvedImage): void {
  const { info } = image;
  const report: Report = (rule, message) => image.problems.push(problemOf(rule, message));
  const label = describe(image);
  if (info.os !== AMD64.os || info.architecture !== AMD64.architecture) {
    report(
      "image-platform",
      `${label} is built for ${info.os ?? "an unknown OS"}/${info.architecture ?? "an unknown architecture"}; Cumulocity runs only linux/amd64 images.`,
    );
  }
  if (info.repoTags.length === 0) report("image-repo-tags", `${label} has no RepoTags in manifest.json.`);
  for (const layer of image.layers) {
    if (layer.compression === "zstd") {
      report("image-layer-compression", `The layer ${layer.name} is zstd-compressed; Docker before 23 (and the platform) cannot load it.`);
    }
    checkDigest(layer, report);
  }
  if (!servesPort80(image)) {
    const ports = info.exposedPorts.length ? `it exposes ${info.exposedPorts.join(", ")}` : "it exposes no port";
    report("image-port", `${label} does not expose or use port 80 (${ports}); the platform sends requests to port 80 (the SERVER_PORT variable).`);
  }
}

/** Verifies stored bytes against their digests where the catalog hashed them. */
function checkDigest(layer: ResolvedLayer, report: Report): void {
  const actual = layer.entry.sha256 ? `sha256:${layer.entry.sha256}` : undefined;
  if (!actual) return;
  const expected = layer.digest ?? (layer.compression === "none" ? layer.diffId : undefined);
  if (expected && expected !== actual) {
    report("image-digest", `The layer ${layer.name} does not match its digest ${expected}: the archive is damaged.`);
  }
}

/** The Dockerfile step that made each layer ("RUN npm ci ..."), from the config's history. */
export function layerOrigins(config: Buffer, count: number): (string | undefined)[] {
  const history = objectOf(parseJson(config))?.history;
  const steps = (Array.isArray(history) ? history : []).map(objectOf).filter((h) => h && h.empty_layer !== true);
  return Array.from({ length: count }, (_, i) => {
    const step = steps[i]?.created_by;
    return typeof step === "string" ? step.replace(/^\/bin\/sh -c #\(nop\)\s*/, "").replace(/^\/bin\/sh -c /, "RUN ").replace(/\s+/g, " ").trim() : undefined;
  });
}

function servesPort80(image: ResolvedImage): boolean {
  if (image.info.exposedPorts.some((p) => p === "80" || p.startsWith("80/"))) return true;
  const env = arrayOfStrings(objectOf(objectOf(parseJson(image.config))?.config)?.Env);
  return env.some((e) => /^(SERVER_)?PORT=80$/.test(e));
}

function describe(image: ResolvedImage): string {
  return image.info.repoTags[0] ?? image.info.id.slice(0, 19);
}

function refNameOf(annotations: Record<string, unknown>): string[] | undefined {
  const full = annotations["io.containerd.image.name"];
  if (typeof full === "string" && full) return [full];
  const ref = annotations["org.opencontainers.image.ref.name"];
  // The OCI annotation is often just a tag ("1.0"); only a full reference names the image.
  return typeof ref === "string" && /[:/]/.test(ref) ? [ref] : undefined;
}

function compressionOf(mediaType: string | undefined): LayerCompression | undefined {
  if (!mediaType) return undefined;
  if (mediaType.endsWith("+zstd")) return "zstd";
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip") || mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip") return "gzip";
  return "none";
}

/** Compression from a layer's first bytes. */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
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

function jsonOf(catalog: Catalog, path: string, report: Report): unknown {
  const entry = findFile(catalog, path);
  const value = entry?.content ? parseJson(entry.content) : undefined;
  if (value === undefined) report("image-format", `${path} in the archive is not valid JSON.`);
  return value;
}

function parseJson(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function blobPathOf(digest: string): string | undefined {
  const match = /^([a-z0-9]+):([a-f0-9]{32,})$/.exec(digest);
  return match ? `blobs/${match[1]}/${match[2]}` : undefined;
}

/** `blobs/sha256/<hex>` (Docker 25+) and `<hex>.json` configs name their digest. */
function digestFromPath(path: string): string | undefined {
  const blob = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  if (blob) return `sha256:${blob[1]}`;
  const config = /^([a-f0-9]{64})\.json$/.exec(path);
  return config ? `sha256:${config[1]}` : undefined;
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function arrayOfStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
