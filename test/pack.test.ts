import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { checkBundleFile } from "../src/bundle/check.js";
import type { PackResult } from "../src/pipeline/pack.js";
import { METHOD_STORED } from "../src/archive/zip-format.js";
import { openZip } from "../src/archive/zip-reader.js";
import { runCli, spawnCli } from "./helpers/cli.js";
import { dockerArchive, layerTar, ociLayout, syntheticImage, writeSparseImageTar } from "./helpers/images.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * `c8y-ms pack` on saved images (--image-tar): no container engine needed. The engine paths
 * (build, --image, podman) are in pack.docker.test.ts.
 */
const MANIFEST = { apiVersion: "2", name: "tar-service", version: "2.1.0", provider: { name: "c8y-ms tests" }, replicas: 2 };

interface Project {
  dir: string;
  /** The scratch area the CLI gets as TMPDIR: empty again after every run. */
  tmp: string;
  env: Record<string, string>;
}

async function project(files: Record<string, string | Buffer> = {}, manifest: object = MANIFEST): Promise<Project> {
  const dir = await tempDir({ "cumulocity.json": JSON.stringify(manifest, null, 2), ...files });
  const tmp = join(dir, ".tmp");
  await mkdir(tmp);
  return { dir, tmp, env: { TMPDIR: tmp } };
}

async function leftovers(p: Project): Promise<string[]> {
  const dist = await readdir(join(p.dir, "dist")).catch(() => []);
  return [...dist.map((f) => `dist/${f}`), ...(await readdir(p.tmp)).map((f) => `tmp/${f}`)];
}


describe("pack --image-tar (spec/cli.md pack; platform.md §2)", () => {
  it("turns a Docker 25+ multi-platform save with attestations into a single linux/amd64 docker-archive", async () => {
    const amd = syntheticImage();
    const arm = syntheticImage({ architecture: "arm64" });
    const tar = ociLayout([{ image: arm, platform: { architecture: "arm64", os: "linux" }, gzip: true }, { image: amd, gzip: true }], {
      multiPlatform: true,
      attestations: true,
      dockerManifest: true,
      refName: "tar-service:2.1.0",
    });
    const p = await project({ "saved.tar": tar });
    const run = await runCli(["pack", "--image-tar", "saved.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(run.stderr).toContain("Converting docker-archive+oci to docker-archive");
    expect(run.exitCode).toBe(0);
    const result = run.json<PackResult>();
    expect(result).toMatchObject({
      file: join(p.dir, "dist", "tar-service-2.1.0.zip"),
      name: "tar-service",
      version: "2.1.0",
      image: { ref: "tar-service:2.1.0", id: amd.id, architecture: "amd64" },
      upToDate: false,
    });
    const zipBytes = await readFile(result.file);
    expect(result.bytes).toBe(zipBytes.length);

    // What the platform sees: the manifest first, then a clean docker-archive.
    const zip = await openZip(result.file);
    expect(zip.entries.map((e) => e.name)).toEqual(["cumulocity.json", "image.tar"]);
    expect(zip.entries[1]!.size).toBe(result.image.bytes);
    await zip.close();
    const report = await checkBundleFile(result.file);
    expect([...report.errors, ...report.warnings]).toEqual([]);
    expect(report.image).toMatchObject({ format: "docker-archive", images: [{ id: amd.id, architecture: "amd64", repoTags: ["tar-service:2.1.0"] }] });
    expect(report.manifest?.manifest).toEqual(MANIFEST);
    expect(await leftovers(p)).toEqual(["dist/tar-service-2.1.0.zip"]);
  });

  it("writes YAML manifests as normalised JSON and honours --output and --compression-level 0", async () => {
    const yaml = "apiVersion: '2'\nname: yaml-service\nversion: 1.0.0-SNAPSHOT\nprovider:\n  name: c8y-ms tests\nreplicas: 2\n";
    const dir = await tempDir({ "cumulocity.yaml": yaml, "saved.tar": dockerArchive(syntheticImage()) });
    const run = await runCli(["pack", "--image-tar", "saved.tar", "--output", "out/stored.zip", "--compression-level", "0"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("out/stored.zip");
    const zip = await openZip(join(dir, "out/stored.zip"));
    expect(zip.entries.find((e) => e.name === "image.tar")?.method).toBe(METHOD_STORED);
    const manifest = await text(await zip.openEntry("cumulocity.json"));
    await zip.close();
    expect(JSON.parse(manifest)).toEqual({
      apiVersion: "2",
      name: "yaml-service",
      version: "1.0.0-SNAPSHOT",
      provider: { name: "c8y-ms tests" },
      replicas: 2,
    });
  });

  it("reuses an up-to-date zip, packs again when the manifest changes or with --force, and is deterministic", async () => {
    const p = await project({ "saved.tar": dockerArchive(syntheticImage()) });
    const first = await runCli(["pack", "--image-tar", "saved.tar", "--json"], { cwd: p.dir, env: p.env });
    const again = await runCli(["pack", "--image-tar", "saved.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/dist\/tar-service-2\.1\.0\.zip is up to date .*--force packs again/);
    expect(again.json<PackResult>()).toEqual({ ...first.json<PackResult>(), upToDate: true });

    const forced = await runCli(["pack", "--image-tar", "saved.tar", "--json", "--force"], { cwd: p.dir, env: p.env });
    expect(forced.json<PackResult>()).toEqual({ ...first.json<PackResult>(), upToDate: false });

    await writeFile(join(p.dir, "cumulocity.json"), JSON.stringify({ ...MANIFEST, replicas: 3 }));
    const changed = await runCli(["pack", "--image-tar", "saved.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(changed.json<PackResult>().upToDate).toBe(false);
    expect(changed.json<PackResult>().sha256).not.toBe(first.json<PackResult>().sha256);
  });

  it("packs again when the same image comes under another tag: the tag is inside image.tar", async () => {
    const image = syntheticImage();
    const p = await project({ "one.tar": dockerArchive(image, ["svc:1"]), "other.tar": dockerArchive(image, ["svc:other"]) });
    const first = await runCli(["pack", "--image-tar", "one.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(first.json<PackResult>().image.ref).toBe("svc:1");
    const retagged = await runCli(["pack", "--image-tar", "other.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(retagged.json<PackResult>()).toMatchObject({ upToDate: false, image: { id: image.id, ref: "svc:other" } });
    const report = await checkBundleFile(retagged.json<PackResult>().file);
    expect(report.image?.images).toMatchObject([{ repoTags: ["svc:other"] }]);
  });

  it("refuses an arm64 image with exit 3 and how to rebuild, leaving nothing behind", async () => {
    const p = await project({ "saved.tar": dockerArchive(syntheticImage({ architecture: "arm64" })) });
    const run = await runCli(["pack", "--image-tar", "saved.tar"], { cwd: p.dir, env: p.env });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("✖ The image is built for linux/arm64; Cumulocity runs only linux/amd64 images.");
    expect(run.stderr).toContain("DOCKER_DEFAULT_PLATFORM=linux/amd64");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe("");
    expect(await leftovers(p)).toEqual([]);
  });

  it("refuses what is not an image, a damaged layer, and an invalid manifest (exit 3)", async () => {
    const damaged = dockerArchive(syntheticImage());
    damaged.write("X", damaged.indexOf("app/server.js", 2048) + 600, "latin1");
    const p = await project({ "notes.tar": Buffer.alloc(10240), "damaged.tar": damaged, "saved.tar.gz": gzipSync(dockerArchive(syntheticImage())) });
    const gzipped = await runCli(["pack", "--image-tar", "saved.tar.gz"], { cwd: p.dir, env: p.env });
    expect(gzipped.exitCode).toBe(3);
    expect(gzipped.stderr).toMatch(/✖ .*saved\.tar\.gz is gzip-compressed; c8y-ms reads the image archive itself\.\n {2}Decompress it first \(gunzip -k /);
    const notImage = await runCli(["pack", "--image-tar", "notes.tar", "--json"], { cwd: p.dir, env: p.env });
    expect(notImage.exitCode).toBe(3);
    expect(notImage.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: "IMAGE_INVALID", message: expect.stringContaining("holds no usable image") });

    const broken = await runCli(["pack", "--image-tar", "damaged.tar"], { cwd: p.dir, env: p.env });
    expect(broken.exitCode).toBe(3);
    expect(broken.stderr).toMatch(/does not match its digest sha256:[0-9a-f]{64}: the archive is damaged/);
    expect(await leftovers(p)).toEqual([]);

    await writeFile(join(p.dir, "cumulocity.json"), JSON.stringify({ ...MANIFEST, name: "Tar_Service" }));
    const invalid = await runCli(["pack", "--image-tar", "damaged.tar"], { cwd: p.dir, env: p.env });
    expect(invalid.exitCode).toBe(3);
    expect(invalid.stderr).toMatch(/cumulocity\.json is not a valid manifest[\s\S]*name-format/);
  });

  it("refuses a zip that would pass the 500 MB limit, naming the largest layers", async () => {
    const p = await project();
    await writeSparseImageTar(join(p.dir, "big.tar"), 530 * 1024 * 1024);
    const run = await runCli(["pack", "--image-tar", "big.tar", "--compression-level", "0"], { cwd: p.dir, env: p.env });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("✖ The zip would exceed the platform's limit of 500 MiB (the image is 556 MB uncompressed).");
    expect(run.stderr).toMatch(/Largest layers:\n\s+556 MB {2}RUN dd if=\/dev\/zero of=\/data\/zeros\.bin/);
    expect(run.stderr).toContain("--compression-level 6 or 9");
    expect(await leftovers(p)).toEqual([]);
  });

  it("stops writing as soon as the zip passes --size-limit (an installation's own limit)", async () => {
    const noise = syntheticImage({ layers: [layerTar({ "app/noise.bin": randomBytes(3 * 1024 * 1024) })] });
    const p = await project({ "saved.tar": dockerArchive(noise) });
    const run = await runCli(["pack", "--image-tar", "saved.tar", "--size-limit", "1048576"], { cwd: p.dir, env: p.env });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("✖ The zip would exceed --size-limit of 1 MiB (the image is 3.2 MB uncompressed).");
    expect(run.stderr).toContain("try --compression-level 9");
    expect(await leftovers(p)).toEqual([]);
  });

  it("packs, with a warning, an image over the limit whose zip is within it (the quota names the image)", async () => {
    const zeros = syntheticImage({ layers: [layerTar({ "app/zeros.bin": Buffer.alloc(2 * 1024 * 1024) })] });
    const p = await project({ "saved.tar": dockerArchive(zeros) });
    const run = await runCli(["pack", "--image-tar", "saved.tar", "--size-limit", "1048576", "--json"], { cwd: p.dir, env: p.env });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/⚠ The image has 2\.0 MiB uncompressed; the platform's image size quota is 1 MiB, and it may count the image, not the zip\./);
    expect(run.json<PackResult>().bytes).toBeLessThan(1048576);
  });

  it("reports usage errors with exit 2", async () => {
    const p = await project();
    const both = await runCli(["pack", "--image", "x:1", "--image-tar", "x.tar"], { cwd: p.dir });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--image and --image-tar exclude each other.");
    const missing = await runCli(["pack", "--image-tar", "nope.tar"], { cwd: p.dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("nope.tar does not exist.");
    const level = await runCli(["pack", "--compression-level", "11"], { cwd: p.dir });
    expect(level.exitCode).toBe(2);
  });

  it("stops on Ctrl-C with exit 130 and leaves no zip and no temporary files", async () => {
    const p = await project();
    await writeSparseImageTar(join(p.dir, "big.tar"), 3 * 1024 * 1024 * 1024);
    const { child, result: finished } = spawnCli(["pack", "--image-tar", "big.tar", "--compression-level", "9"], { cwd: p.dir, env: p.env });
    child.stderr!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Zipping")) child.kill("SIGINT");
    });
    const result = await finished;
    expect(result.stderr).toContain("Zipping tar-service-2.1.0.zip");
    expect(result.exitCode).toBe(130);
    expect(await leftovers(p)).toEqual([]);
    expect((await readdir(p.dir)).sort()).toEqual([".tmp", "big.tar", "cumulocity.json"]);
  });
});

describe("no container engine", () => {
  it("falls back to building without one, said in one line; an engine asked for by name is required (exit 1 with the fix)", async () => {
    // A PATH with node and nothing else.
    const bin = await tempDir();
    await symlink(process.execPath, join(bin, "node"));
    const p = await project({ Dockerfile: "FROM scratch\n" });
    const none = await runCli(["pack"], { cwd: p.dir, env: { ...p.env, PATH: bin } });
    expect(none.stderr.split("\n")[0]).toBe("⚠ No container engine answers (docker is not installed; podman is not installed): c8y-ms builds the image itself, as with --engine none.");
    // Without an engine there is no empty image to start from: refused before anything else.
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toMatch(/Dockerfile:1: FROM scratch starts from scratch/);
    const podman = await runCli(["build", "--engine", "podman"], { cwd: p.dir, env: { ...p.env, PATH: bin } });
    expect(podman.exitCode).toBe(1);
    expect(podman.stderr).toContain("✖ podman is not installed.");
    expect(podman.stderr).toMatch(/choose the other engine with --engine/);
    expect(await leftovers(p)).toEqual([]);
  });
});
