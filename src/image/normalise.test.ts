import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerArchive, ociLayout, podmanDockerArchive, sha256Hex, syntheticImage } from "../../test/helpers/images.js";
import { tempDir } from "../../test/helpers/tmp.js";
import { inspectImageTarFile } from "./image-tar.js";
import { ImageRejectedError, prepareImageTar } from "./normalise.js";

const image = syntheticImage();

async function prepare(tar: Buffer) {
  const dir = await tempDir({ "in.tar": tar });
  const file = await inspectImageTarFile(join(dir, "in.tar"));
  const signal = new AbortController().signal;
  return { dir, prepared: await prepareImageTar(file, { scratchDir: dir, fallbackTag: "svc:9.9.9", signal }), signal };
}

/** The output as the platform would read it: one image, docker-archive, plain layers whose digests are their diff ids. */
async function expectPlatformReady(path: string) {
  const written = await inspectImageTarFile(path);
  expect(written.layout.report.format).toBe("docker-archive");
  expect(written.layout.report.problems).toEqual([]);
  const bytes = await readFile(path);
  const [img] = written.layout.images;
  for (const layer of img!.layers) {
    expect(layer.compression).toBe("none");
    expect(`sha256:${sha256Hex(bytes.subarray(layer.entry.dataOffset, layer.entry.dataOffset + layer.entry.size))}`).toBe(layer.diffId);
  }
  expect(JSON.parse(bytes.subarray(512, 512 + 1000).toString("utf8").replace(/\0[\s\S]*$/, ""))).toEqual([
    { Config: `${img!.info.id.slice(7)}.json`, RepoTags: img!.info.repoTags, Layers: img!.layers.map((l) => `${l.diffId!.slice(7)}/layer.tar`) },
  ]);
  return written;
}

describe("prepareImageTar", () => {
  it("uses a classic docker-archive as it is and verifies its layers", async () => {
    const { dir, prepared, signal } = await prepare(dockerArchive(image));
    expect(prepared).toMatchObject({ path: join(dir, "in.tar"), converted: false, ref: "svc:1.0.0", id: image.id, architecture: "amd64" });
    await prepared.verify!(signal);
  });

  it("names an archive saved by id with the fallback tag, and does not warn about the tag it mended", async () => {
    const { prepared } = await prepare(dockerArchive(image, null));
    expect(prepared).toMatchObject({ converted: true, ref: "svc:9.9.9", id: image.id });
    expect(prepared.warnings.map((w) => w.rule)).not.toContain("image-repo-tags");
    expect((await expectPlatformReady(prepared.path)).layout.images[0]!.info.repoTags).toEqual(["svc:9.9.9"]);
  });

  it("finds a damaged layer while verifying", async () => {
    const tar = dockerArchive(image);
    const at = tar.indexOf("app/server.js", 2048);
    tar.write("X", at + 600, "latin1");
    const { prepared, signal } = await prepare(tar);
    await expect(prepared.verify!(signal)).rejects.toThrow(/does not match its digest/);
  });

  it("uses Podman's docker-archive (layer symlinks) as it is", async () => {
    const { prepared } = await prepare(podmanDockerArchive(image));
    expect(prepared).toMatchObject({ converted: false, ref: "localhost/svc:1.0.0", id: image.id });
  });

  it("rewrites an OCI archive with gzip layers into a plain docker-archive with the same image id", async () => {
    const { dir, prepared } = await prepare(ociLayout([{ image, gzip: true }], { refName: "localhost/svc:1.0.0" }));
    expect(prepared).toMatchObject({ path: join(dir, "image.tar"), converted: true, ref: "localhost/svc:1.0.0", id: image.id });
    const written = await expectPlatformReady(prepared.path);
    expect(written.layout.images[0]!.info.layers.map((l) => l.size)).toEqual(image.layers.map((l) => l.length));
    expect(prepared.bytes).toBe(written.size);
  });

  it("picks linux/amd64 from a Docker 25+ multi-platform save with attestations", async () => {
    const arm = syntheticImage({ architecture: "arm64" });
    const tar = ociLayout([{ image: arm, platform: { architecture: "arm64", os: "linux" } }, { image }], { multiPlatform: true, attestations: true, dockerManifest: true, refName: "svc:1.0.0" });
    const { prepared } = await prepare(tar);
    expect(prepared).toMatchObject({ converted: true, id: image.id, ref: "svc:1.0.0" });
    await expectPlatformReady(prepared.path);
  });

  it("names an untagged image after the service", async () => {
    const { prepared } = await prepare(ociLayout([{ image }]));
    expect(prepared.ref).toBe("svc:9.9.9");
    expect((await expectPlatformReady(prepared.path)).layout.images[0]!.info.repoTags).toEqual(["svc:9.9.9"]);
  });

  it("refuses an arm64 image with the rebuild hint (exit 3)", async () => {
    const error = await prepare(dockerArchive(syntheticImage({ architecture: "arm64" }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageRejectedError);
    expect((error as ImageRejectedError).exitCode).toBe(3);
    expect((error as ImageRejectedError).message).toBe("The image is built for linux/arm64; Cumulocity runs only linux/amd64 images.");
    expect((error as ImageRejectedError).hint).toMatch(/--platform linux\/amd64[\s\S]*DOCKER_DEFAULT_PLATFORM=linux\/amd64/);
  });

  it("refuses a damaged OCI layer while rewriting, and what is not an image", async () => {
    const tar = ociLayout([{ image, gzip: true }], { refName: "svc:1" });
    const dir = await tempDir();
    // Corrupt the gzip stream of the biggest blob, keeping sizes.
    const blobAt = tar.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
    tar.fill(0x42, blobAt + 20, blobAt + 40);
    await writeFile(join(dir, "in.tar"), tar);
    const file = await inspectImageTarFile(join(dir, "in.tar"));
    await expect(prepareImageTar(file, { scratchDir: dir, fallbackTag: "x:1", signal: new AbortController().signal })).rejects.toThrow(ImageRejectedError);
    await expect(prepare(Buffer.alloc(4096))).rejects.toThrow(/holds no usable image/);
  });
});
