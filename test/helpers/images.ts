import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { paddingOf } from "../../src/archive/tar.js";
import { TAR_END, tarHeader } from "../../src/archive/tar-writer.js";

/**
 * Synthetic image archives in every layout engines write, built in memory for tests: the
 * classic docker-archive, Podman's (layer symlinks), OCI layouts with multi-platform indexes
 * and attestation manifests, and Docker 25+'s docker-archive+OCI.
 */
export interface TarFile {
  name: string;
  data?: Buffer | string;
  type?: "file" | "directory" | "symlink";
  linkName?: string;
}

export function tarBuffer(files: TarFile[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = typeof file.data === "string" ? Buffer.from(file.data) : (file.data ?? Buffer.alloc(0));
    const header = { name: file.name, size: data.length, type: file.type ?? "file" } as const;
    parts.push(tarHeader(file.linkName ? { ...header, linkName: file.linkName } : header));
    if ((file.type ?? "file") === "file") parts.push(data, Buffer.alloc(paddingOf(data.length)));
  }
  if (options.end ?? true) parts.push(TAR_END);
  return Buffer.concat(parts);
}

/** A layer: a tar of files, as in an image's filesystem. */
export function layerTar(files: Record<string, string | Buffer>): Buffer {
  return tarBuffer(Object.entries(files).map(([name, data]) => ({ name, data })));
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface ConfigOptions {
  architecture?: string;
  os?: string;
  exposedPorts?: string[];
  env?: string[];
}

export function imageConfig(layers: Buffer[], options: ConfigOptions = {}): Buffer {
  const config: Record<string, unknown> = { Env: options.env ?? ["PATH=/usr/bin:/bin"], Cmd: ["node", "server.js"] };
  if (options.exposedPorts) config.ExposedPorts = Object.fromEntries(options.exposedPorts.map((p) => [p, {}]));
  return Buffer.from(
    JSON.stringify({
      architecture: options.architecture ?? "amd64",
      os: options.os ?? "linux",
      config,
      rootfs: { type: "layers", diff_ids: layers.map((l) => `sha256:${sha256Hex(l)}`) },
      history: layers.map(() => ({ created_by: "test" })),
    }),
  );
}

export interface SyntheticImage {
  layers: Buffer[];
  config: Buffer;
  id: string;
}

export function syntheticImage(options: ConfigOptions & { layers?: Buffer[] } = {}): SyntheticImage {
  const layers = options.layers ?? [layerTar({ "app/server.js": "require('http').createServer((q, s) => s.end('ok')).listen(80);\n" }), layerTar({ "app/package.json": "{}\n" })];
  const config = imageConfig(layers, { exposedPorts: ["80/tcp"], ...options });
  return { layers, config, id: `sha256:${sha256Hex(config)}` };
}

/** `docker save` of Docker up to 24: `<id>/layer.tar`, `<config>.json`, manifest.json last. */
export function dockerArchive(image: SyntheticImage, repoTags: string[] | null = ["svc:1.0.0"]): Buffer {
  const files: TarFile[] = [];
  const layerNames = image.layers.map((layer, i) => {
    const dir = sha256Hex(`${i}:${sha256Hex(layer)}`);
    files.push({ name: `${dir}/`, type: "directory" }, { name: `${dir}/VERSION`, data: "1.0" }, { name: `${dir}/layer.tar`, data: layer });
    return `${dir}/layer.tar`;
  });
  return tarBuffer([...files, ...configAndManifest(image, repoTags, layerNames)]);
}

/** What every docker-archive ends with: `<id>.json` and manifest.json. */
function configAndManifest(image: SyntheticImage, repoTags: string[] | null, layerNames: string[]): TarFile[] {
  const configName = `${image.id.slice(7)}.json`;
  return [
    { name: configName, data: image.config },
    { name: "manifest.json", data: JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: layerNames }]) },
  ];
}

/** `podman save --format docker-archive`: layers as `<diffid>.tar`, with `<id>/layer.tar` symlinks. */
export function podmanDockerArchive(image: SyntheticImage, repoTags = ["localhost/svc:1.0.0"]): Buffer {
  const files: TarFile[] = [];
  const layerNames = image.layers.map((layer, i) => {
    const name = `${sha256Hex(layer)}.tar`;
    files.push({ name, data: layer }, { name: `${sha256Hex(`link${i}`)}/layer.tar`, type: "symlink", linkName: `../${name}` });
    return `${sha256Hex(`link${i}`)}/layer.tar`;
  });
  return tarBuffer([...files, ...configAndManifest(image, repoTags, layerNames)]);
}

export interface OciImageSpec {
  image: SyntheticImage;
  platform?: { architecture: string; os: string };
  gzip?: boolean;
}

export interface OciLayoutOptions {
  refName?: string;
  /** Docker's provenance attestation manifests beside each image. */
  attestations?: boolean;
  /** Docker 25+: also write manifest.json pointing into blobs/. */
  dockerManifest?: boolean;
  /** Put several images behind one index (multi-platform) rather than listing them in index.json. */
  multiPlatform?: boolean;
  /** Leave these images' blobs out, as Docker does for platforms it has not pulled. */
  omitBlobsOf?: number[];
}

/** An OCI image layout (`podman save --format oci-archive`, Docker 25+ `docker save`). */
export function ociLayout(specs: OciImageSpec[], options: OciLayoutOptions = {}): Buffer {
  const blobs = new Map<string, Buffer>();
  const blob = (data: Buffer, keep = true) => {
    const digest = `sha256:${sha256Hex(data)}`;
    if (keep) blobs.set(digest, data);
    return { digest, size: data.length };
  };
  const descriptors = specs.map((spec, index) => {
    const keep = !(options.omitBlobsOf ?? []).includes(index);
    const layers = spec.image.layers.map((layer) => {
      const stored = spec.gzip ? gzipSync(layer) : layer;
      return { mediaType: `application/vnd.oci.image.layer.v1.tar${spec.gzip ? "+gzip" : ""}`, ...blob(stored, keep) };
    });
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...blob(spec.image.config, keep) }, layers }),
    );
    return { mediaType: "application/vnd.oci.image.manifest.v1+json", ...blob(manifest, keep), platform: spec.platform ?? { architecture: "amd64", os: "linux" } };
  });

  const all: object[] = [];
  for (const descriptor of descriptors) {
    all.push(descriptor);
    if (options.attestations) {
      const statement = blob(Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v0.1", predicateType: "https://slsa.dev/provenance/v0.2" })));
      const emptyConfig = blob(Buffer.from("{}"));
      const attestation = blob(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...emptyConfig },
            layers: [{ mediaType: "application/vnd.in-toto+json", ...statement }],
          }),
        ),
      );
      all.push({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...attestation,
        platform: { architecture: "unknown", os: "unknown" },
        annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": (descriptor as { digest: string }).digest },
      });
    }
  }
  const annotations = options.refName ? { "io.containerd.image.name": options.refName, "org.opencontainers.image.ref.name": options.refName.split(":").pop() } : undefined;
  let top: object[];
  if (options.multiPlatform) {
    const index = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: all })));
    top = [{ mediaType: "application/vnd.oci.image.index.v1+json", ...index, ...(annotations ? { annotations } : {}) }];
  } else {
    top = all.map((d) => (annotations ? { ...d, annotations: { ...(d as { annotations?: object }).annotations, ...annotations } } : d));
  }
  const files: TarFile[] = [{ name: "blobs/", type: "directory" }, { name: "blobs/sha256/", type: "directory" }];
  for (const [digest, data] of blobs) files.push({ name: `blobs/sha256/${digest.slice(7)}`, data });
  files.push({ name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' });
  files.push({ name: "index.json", data: JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: top }) });
  if (options.dockerManifest) {
    const [first] = specs;
    if (first) {
      files.push({
        name: "manifest.json",
        data: JSON.stringify([
          {
            Config: `blobs/sha256/${first.image.id.slice(7)}`,
            RepoTags: options.refName ? [options.refName] : [],
            Layers: first.image.layers.map((l) => `blobs/sha256/${sha256Hex(first.gzip ? gzipSync(l) : l)}`),
          },
        ]),
      });
    }
  }
  return tarBuffer(files);
}

/**
 * A docker-archive on disk whose single layer holds one file of `fileBytes` zeros, written as
 * holes: several GB cost no disk and no time to create, and read back fast.
 */
export async function writeSparseImageTar(path: string, fileBytes: number, repoTag = "big:1.0.0"): Promise<{ id: string; bytes: number }> {
  const innerHeader = tarHeader({ name: "data/zeros.bin", size: fileBytes });
  const layerBytes = innerHeader.length + fileBytes + paddingOf(fileBytes) + TAR_END.length;
  // The layer's digest, computed over the same bytes without materialising them.
  const hash = createHash("sha256").update(innerHeader);
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  for (let left = fileBytes + paddingOf(fileBytes) + TAR_END.length; left > 0; left -= zeros.length) hash.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  const diffId = `sha256:${hash.digest("hex")}`;
  const config = imageConfig([], { exposedPorts: ["80/tcp"] });
  const configJson = JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] }; history: object[] };
  configJson.rootfs.diff_ids = [diffId];
  configJson.history = [{ created_by: "/bin/sh -c dd if=/dev/zero of=/data/zeros.bin" }];
  const configBytes = Buffer.from(JSON.stringify(configJson));
  const id = sha256Hex(configBytes);
  const layerName = `${diffId.slice(7)}/layer.tar`;

  const handle = await open(path, "w");
  try {
    let at = 0;
    const put = async (data: Buffer) => {
      await handle.write(data, 0, data.length, at);
      at += data.length;
    };
    await put(tarHeader({ name: layerName, size: layerBytes }));
    await put(innerHeader);
    at += layerBytes - innerHeader.length + paddingOf(layerBytes); // zeros: left as holes
    await put(tarHeader({ name: `${id}.json`, size: configBytes.length }));
    await put(Buffer.concat([configBytes, Buffer.alloc(paddingOf(configBytes.length))]));
    const manifest = Buffer.from(JSON.stringify([{ Config: `${id}.json`, RepoTags: [repoTag], Layers: [layerName] }]));
    await put(tarHeader({ name: "manifest.json", size: manifest.length }));
    await put(Buffer.concat([manifest, Buffer.alloc(paddingOf(manifest.length))]));
    await put(TAR_END);
    await handle.truncate(at);
  } finally {
    await handle.close();
  }
  return { id: `sha256:${id}`, bytes: (await stat(path)).size };
}
