import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { streamSource } from "../archive/byte-source.js";
import { readTarEntries } from "../archive/tar.js";
import { TAR_END } from "../archive/tar-writer.js";
import { dockerArchive, layerTar, ociLayout, podmanDockerArchive, syntheticImage, tarBuffer } from "../../test/helpers/images.js";
import { anonymousImageTar } from "./anonymous-image.js";

interface Entry {
  name: string;
  type: string;
  linkName: string;
  data: Buffer;
}

async function entriesOf(tar: Buffer | AsyncIterable<Buffer>): Promise<Entry[]> {
  const entries: Entry[] = [];
  const stream = Buffer.isBuffer(tar) ? Readable.from([tar]) : Readable.from(tar);
  for await (const entry of readTarEntries(streamSource(stream))) {
    entries.push({ name: entry.name, type: entry.type, linkName: entry.linkName, data: await entry.readContent() });
  }
  return entries;
}

/** The archive through anonymousImageTar, fed in small pieces as a network stream would. */
async function anonymous(tar: Buffer): Promise<Entry[]> {
  const pieces = Array.from({ length: Math.ceil(tar.length / 700) }, (_, i) => tar.subarray(i * 700, (i + 1) * 700));
  return entriesOf(anonymousImageTar(Readable.from(pieces)));
}

const json = (entries: Entry[], name: string) => JSON.parse(entries.find((e) => e.name === name)!.data.toString("utf8")) as unknown;

describe("anonymousImageTar", () => {
  it("empties RepoTags, drops the legacy repositories file and passes every other entry byte for byte", async () => {
    const image = syntheticImage({ layers: [layerTar({ "app/big.bin": Buffer.alloc(300_000, 7) })] });
    // docker save before Docker 25 also writes the legacy `repositories` file, naming the image again.
    const saved = Buffer.concat([dockerArchive(image, ["c8y-ms-base/node:local"]).subarray(0, -TAR_END.length), tarBuffer([{ name: "repositories", data: '{"c8y-ms-base/node":{"local":"x"}}' }])]);
    const original = await entriesOf(saved);
    const result = await anonymous(saved);

    expect(result.map((e) => e.name)).toEqual(original.map((e) => e.name).filter((n) => n !== "repositories"));
    expect(json(result, "manifest.json")).toEqual([{ ...(json(original, "manifest.json") as object[])[0], RepoTags: null }]);
    for (const entry of result.filter((e) => e.name !== "manifest.json")) {
      expect(entry.data.equals(original.find((o) => o.name === entry.name)!.data), entry.name).toBe(true);
    }
  });

  it("keeps Podman's layer symlinks as symlinks", async () => {
    const result = await anonymous(podmanDockerArchive(syntheticImage()));
    const links = result.filter((e) => e.type === "symlink");
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.linkName).toMatch(/^\.\.\/[0-9a-f]{64}\.tar$/);
    expect((json(result, "manifest.json") as { RepoTags: unknown }[])[0]!.RepoTags).toBeNull();
  });

  it("takes the name annotations out of an OCI index.json (Docker 25+ and containerd name images by them)", async () => {
    const tar = ociLayout([{ image: syntheticImage() }], { refName: "docker.io/library/postgres:16", dockerManifest: true });
    const index = json(await anonymous(tar), "index.json") as { manifests: { annotations?: Record<string, string> }[] };
    for (const descriptor of index.manifests) {
      expect(Object.keys(descriptor.annotations ?? {})).not.toContain("io.containerd.image.name");
      expect(Object.keys(descriptor.annotations ?? {})).not.toContain("org.opencontainers.image.ref.name");
    }
  });
});
