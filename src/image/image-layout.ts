import { IMAGE_RULES, type ImageRuleId } from "./rules.js";
import { arrayOfStrings, findFile, objectOf, parseJson, sha256, type Catalog, type CatalogEntry, type LayerCompression } from "./catalog.js";
import { readDockerArchive } from "./docker-archive.js";
import type { ImageReference, ReaderReport } from "./image-reference.js";
import { readOciLayout } from "./oci-layout.js";

/**
 * What a saved image archive holds, whatever wrote it, judged the way the platform reads it
 * (platform.md §2): the classic docker-archive (docker-archive.ts), an OCI image layout
 * (oci-layout.ts, from Podman or Docker 25+, possibly a multi-platform index with
 * attestation manifests), or both at once (Docker 25+ `docker save`). The readers say where
 * things are; this module resolves them in the catalog, parses each config once, and checks
 * them: one image, linux/amd64, names docker can load, every config and layer present and
 * matching its digest. Pure: it works on a catalog of the archive's entries.
 */

export type ImageArchiveFormat = "docker-archive" | "oci-layout" | "docker-archive+oci";
export type { Catalog, CatalogEntry, LayerCompression } from "./catalog.js";

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
  /** The same config, parsed (once). */
  configJson: Readonly<Record<string, unknown>>;
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

export function resolveImageLayout(catalog: Catalog): ImageLayout {
  const problems: ImageProblem[] = [];
  const report: ReaderReport = (rule, message) => {
    if (!problems.some((p) => p.rule === rule && p.message === message)) problems.push(problemOf(rule, message));
  };
  const hasManifest = catalog.has("manifest.json");
  const hasIndex = catalog.has("index.json");
  const format: ImageArchiveFormat = hasManifest ? (hasIndex ? "docker-archive+oci" : "docker-archive") : "oci-layout";
  const resolveAll = (refs: ImageReference[], into: ReaderReport) => refs.map((ref) => resolveImage(catalog, into, ref)).filter((i): i is ResolvedImage => i !== undefined);

  let images: ResolvedImage[] = [];
  let alternatives: ResolvedImage[] = [];
  if (hasManifest) {
    images = resolveAll(readDockerArchive(catalog, report), report);
    if (hasIndex) {
      const ignored: ReaderReport = () => {};
      alternatives = resolveAll(readOciLayout(catalog, ignored), ignored).filter((a) => !images.some((i) => i.info.id === a.info.id));
      for (const alternative of alternatives) checkImage(alternative);
    }
  } else if (hasIndex) {
    images = resolveAll(readOciLayout(catalog, report), report);
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

function problemOf(rule: ImageRuleId, message: string): ImageProblem {
  return { rule, severity: IMAGE_RULES[rule].severity, message };
}

function resolveImage(catalog: Catalog, report: ReaderReport, ref: ImageReference): ResolvedImage | undefined {
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
  const own: ReaderReport = (rule, message) => problems.push(problemOf(rule, message));
  if (ref.source === "docker-archive" && !ref.configName.endsWith(".json")) {
    own("image-config-name", `The config ${ref.configName} has no .json extension (Docker 25+ layout); platforms before 2024-05 reject it ("config file does not have .json extension").`);
  }
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
  const info: ImageInfo = {
    repoTags: ref.repoTags,
    id,
    layers: layers.map((l) => ({ name: l.name, size: l.entry.size })),
    exposedPorts: Object.keys(objectOf(settings.ExposedPorts) ?? {}),
    bytes: configEntry.size + layers.reduce((sum, l) => sum + l.entry.size, 0),
  };
  if (typeof config.architecture === "string") info.architecture = config.architecture;
  if (typeof config.os === "string") info.os = config.os;
  return { info, configName: ref.configName, configEntry, config: configEntry.content, configJson: config, layers, problems };
}

/**
 * A name `docker load` accepts: the distribution reference grammar (lowercase path components
 * separated by `.`, `_`, `__` or dashes, an optional registry host with port, a tag of up to
 * 128 word characters, dots and dashes), at most 255 characters. Docker refuses anything
 * else with "invalid reference format", so the platform cannot load it either.
 */
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)";
const REFERENCE = new RegExp(`^${DOMAIN}?${COMPONENT}(?:/${COMPONENT})*:[\\w][\\w.-]{0,127}$`);
const MAX_REFERENCE_LENGTH = 255;

function isLoadableTag(tag: string): boolean {
  return tag.length <= MAX_REFERENCE_LENGTH && REFERENCE.test(tag);
}

function checkImage(image: ResolvedImage): void {
  const { info } = image;
  const report: ReaderReport = (rule, message) => image.problems.push(problemOf(rule, message));
  const label = describe(image);
  if (info.os !== AMD64.os || info.architecture !== AMD64.architecture) {
    report(
      "image-platform",
      `${label} is built for ${info.os ?? "an unknown OS"}/${info.architecture ?? "an unknown architecture"}; Cumulocity runs only linux/amd64 images.`,
    );
  }
  if (info.repoTags.length === 0) report("image-repo-tags", `${label} has no RepoTags in manifest.json.`);
  const unloadable = info.repoTags.filter((tag) => !isLoadableTag(tag));
  if (unloadable.length > 0) {
    const shown = unloadable.slice(0, 3).map((t) => JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t)).join(", ");
    report("image-repo-tag-format", `The image is named ${shown} in manifest.json, which docker cannot load ("invalid reference format"); a name is like my-service:1.0.0.`);
  }
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
function checkDigest(layer: ResolvedLayer, report: ReaderReport): void {
  const actual = layer.entry.sha256 ? `sha256:${layer.entry.sha256}` : undefined;
  if (!actual) return;
  const expected = layer.digest ?? (layer.compression === "none" ? layer.diffId : undefined);
  if (expected && expected !== actual) {
    report("image-digest", `The layer ${layer.name} does not match its digest ${expected}: the archive is damaged.`);
  }
}

/** The Dockerfile step that made each layer ("RUN npm ci ..."), from the config's history. */
export function layerOrigins(config: Readonly<Record<string, unknown>>, count: number): (string | undefined)[] {
  const history = config.history;
  const steps = (Array.isArray(history) ? history : []).map(objectOf).filter((h) => h && h.empty_layer !== true);
  return Array.from({ length: count }, (_, i) => {
    const step = steps[i]?.created_by;
    return typeof step === "string" ? step.replace(/^\/bin\/sh -c #\(nop\)\s*/, "").replace(/^\/bin\/sh -c /, "RUN ").replace(/\s+/g, " ").trim() : undefined;
  });
}

function servesPort80(image: ResolvedImage): boolean {
  if (image.info.exposedPorts.some((p) => p === "80" || p.startsWith("80/"))) return true;
  const env = arrayOfStrings(objectOf(image.configJson.config)?.Env);
  return env.some((e) => /^(SERVER_)?PORT=80$/.test(e));
}

function describe(image: ResolvedImage): string {
  return image.info.repoTags[0] ?? image.info.id.slice(0, 19);
}

function compressionOf(mediaType: string | undefined): LayerCompression | undefined {
  if (!mediaType) return undefined;
  if (mediaType.endsWith("+zstd")) return "zstd";
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip") || mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip") return "gzip";
  return "none";
}
