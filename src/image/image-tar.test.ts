import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { dockerArchive, layerTar, ociLayout, podmanDockerArchive, syntheticImage, tarBuffer } from "../../test/helpers/images.js";
import { tempDir } from "../../test/helpers/tmp.js";
import { inspectImageTar, inspectImageTarFile } from "./image-tar.js";

/** Streams in small pieces, as an inflating zip entry does, so entries straddle chunks. */
function chunked(data: Buffer, size = 1000): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size));
  return Readable.from(pieces);
}

const rules = (report: { problems: { rule: string; severity: string }[] }) => report.problems.map((p) => `${p.severity}:${p.rule}`).sort();

describe("inspectImageTar (platform.md §2: image.tar is a single-image linux/amd64 docker-archive)", () => {
  const image = syntheticImage();

  it("reads a classic docker-archive: tags, id, platform, layers, ports", async () => {
    const report = await inspectImageTar(chunked(dockerArchive(image)));
    expect(report.format).toBe("docker-archive");
    expect(report.problems).toEqual([]);
    expect(report.images).toHaveLength(1);
    const [info] = report.images;
    expect(info).toMatchObject({ repoTags: ["svc:1.0.0"], id: image.id, architecture: "amd64", os: "linux", exposedPorts: ["80/tcp"] });
    expect(info!.layers.map((l) => l.size)).toEqual(image.layers.map((l) => l.length));
    expect(info!.bytes).toBe(image.config.length + image.layers.reduce((s, l) => s + l.length, 0));
  });

  it("follows Podman's layer.tar symlinks", async () => {
    const report = await inspectImageTar(chunked(podmanDockerArchive(image)));
    expect(report.problems).toEqual([]);
    expect(report.images[0]!.repoTags).toEqual(["localhost/svc:1.0.0"]);
    expect(report.images[0]!.layers).toHaveLength(2);
  });

  it("reads an OCI layout but reports that the platform needs manifest.json", async () => {
    const report = await inspectImageTar(chunked(ociLayout([{ image, gzip: true }], { refName: "localhost/svc:1.0.0" })));
    expect(report.format).toBe("oci-layout");
    expect(rules(report)).toEqual(["error:image-format"]);
    expect(report.images[0]).toMatchObject({ repoTags: ["localhost/svc:1.0.0"], id: image.id, architecture: "amd64" });
  });

  it("skips attestation manifests and platforms whose blobs were not saved (Docker 25+ multi-platform index)", async () => {
    const arm = syntheticImage({ architecture: "arm64" });
    const tar = ociLayout([{ image }, { image: arm, platform: { architecture: "arm64", os: "linux" } }], { multiPlatform: true, attestations: true, dockerManifest: true, omitBlobsOf: [1], refName: "svc:1.0.0" });
    const report = await inspectImageTar(chunked(tar));
    expect(report.format).toBe("docker-archive+oci");
    expect(report.images.map((i) => i.architecture)).toEqual(["amd64"]);
    expect(rules(report)).toEqual(["warning:image-config-name"]);
  });

  it("reports every platform of a full multi-platform index, and that only one image is allowed", async () => {
    const arm = syntheticImage({ architecture: "arm64" });
    const report = await inspectImageTar(chunked(ociLayout([{ image }, { image: arm, platform: { architecture: "arm64", os: "linux" } }], { multiPlatform: true, attestations: true, refName: "svc:1" })));
    expect(report.images.map((i) => i.architecture)).toEqual(["amd64", "arm64"]);
    expect(rules(report)).toEqual(["error:image-format", "error:image-multiple", "error:image-platform"]);
  });

  it("refuses an arm64 image", async () => {
    const report = await inspectImageTar(chunked(dockerArchive(syntheticImage({ architecture: "arm64" }))));
    expect(rules(report)).toEqual(["error:image-platform"]);
    expect(report.problems[0]!.message).toContain("linux/arm64");
  });

  it("detects a damaged layer by its digest", async () => {
    const tar = dockerArchive(image);
    const at = tar.indexOf("app/server.js", 2048);
    tar.write("X", at + 600, "latin1"); // inside the layer's file data, not a header
    const report = await inspectImageTar(chunked(tar));
    expect(rules(report)).toContain("error:image-digest");
  });

  it("reports missing layers and configs", async () => {
    const tar = tarBuffer([{ name: "manifest.json", data: JSON.stringify([{ Config: "abc.json", RepoTags: ["x:1"], Layers: ["l/layer.tar"] }]) }]);
    expect(rules(await inspectImageTar(chunked(tar)))).toEqual(["error:image-config-missing"]);
    const noLayer = dockerArchive(image).toString("latin1").replace(/"Layers":\["[0-9a-f]{64}/, `"Layers":["${"f".repeat(64)}`);
    expect(rules(await inspectImageTar(chunked(Buffer.from(noLayer, "latin1"))))).toContain("error:image-layer-missing");
  });

  it("warns when the image neither exposes nor uses port 80, and when it has no tags", async () => {
    const quiet = syntheticImage({ exposedPorts: ["8080/tcp"] });
    const report = await inspectImageTar(chunked(dockerArchive(quiet, null)));
    expect(rules(report)).toEqual(["warning:image-port", "warning:image-repo-tags"]);
    expect(report.problems.find((p) => p.rule === "image-port")!.message).toContain("8080/tcp");
    const viaEnv = syntheticImage({ exposedPorts: [], env: ["SERVER_PORT=80"] });
    expect(rules(await inspectImageTar(chunked(dockerArchive(viaEnv))))).toEqual([]);
  });

  it("reports what is not an image archive instead of throwing", async () => {
    expect(rules(await inspectImageTar(chunked(Buffer.from("hello, not a tar".repeat(100)))))).toEqual(["error:image-format"]);
    expect(rules(await inspectImageTar(chunked(layerTar({ "etc/hostname": "x" }))))).toEqual(["error:image-format"]);
    const truncated = dockerArchive(image).subarray(0, 3000);
    expect(rules(await inspectImageTar(chunked(truncated)))).toEqual(["error:image-format"]);
  });

  it("handles long names (pax headers) like GNU and Go writers", async () => {
    const long = `${"deep/".repeat(30)}layer.tar`;
    const single = syntheticImage({ layers: [image.layers[0]!] });
    const tar = tarBuffer([
      { name: long, data: single.layers[0] },
      { name: `${single.id.slice(7)}.json`, data: single.config },
      { name: "manifest.json", data: JSON.stringify([{ Config: `${single.id.slice(7)}.json`, RepoTags: ["a:1"], Layers: [long] }]) },
    ]);
    const report = await inspectImageTar(chunked(tar));
    expect(report.problems).toEqual([]);
    expect(report.images[0]!.layers[0]!.name).toBe(long);
  });
});

describe("inspectImageTarFile", () => {
  it("indexes a tar on disk with the same result, reading headers only", async () => {
    const dir = await tempDir();
    const path = join(dir, "image.tar");
    const tar = ociLayout([{ image: syntheticImage(), gzip: true }], { dockerManifest: true, refName: "svc:2.0.0" });
    await writeFile(path, tar);
    const file = await inspectImageTarFile(path);
    const streamed = await inspectImageTar(chunked(tar));
    expect(file.layout.report).toEqual(streamed);
    expect(file.size).toBe(tar.length);
    expect(file.layout.images[0]!.layers.map((l) => l.compression)).toEqual(["gzip", "gzip"]);
  });

  it("refuses a truncated file", async () => {
    const dir = await tempDir();
    const path = join(dir, "image.tar");
    await writeFile(path, dockerArchive(syntheticImage()).subarray(0, 2600));
    await expect(inspectImageTarFile(path)).rejects.toThrow(/truncated/);
  });
});
