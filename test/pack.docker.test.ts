import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBundleFile } from "../src/bundle/check.js";
import type { PackResult } from "../src/pipeline/pack.js";
import { openZip } from "../src/archive/zip-reader.js";
import { runCli } from "./helpers/cli.js";
import { dockerArchive, syntheticImage } from "./helpers/images.js";
import { NODE_BASE_IMAGE, REPO_ROOT } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * build and pack with the real engines: a small service from the offline base image, packed,
 * checked the way the platform checks it, and loaded back into Docker.
 */
const FIXTURE = join(REPO_ROOT, "test", "fixtures", "pack-service");
const NAME = `pack-it-${randomBytes(3).toString("hex")}`;
const TAG = `${NAME}:1.0.0`;
const BASE = ["--build-arg", `BASE_IMAGE=${NODE_BASE_IMAGE}`];
/** Everything this file creates in an engine, removed in afterAll. */
const created = { docker: new Set<string>([TAG]), podman: new Set<string>() };


async function serviceProject(dockerfile?: string, dir?: string): Promise<string> {
  dir ??= await tempDir();
  await cp(FIXTURE, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, "cumulocity.json"), "utf8")) as Record<string, unknown>;
  await writeFile(join(dir, "cumulocity.json"), JSON.stringify({ ...manifest, name: NAME }, null, 2));
  if (dockerfile) await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

/** `docker load` of the zip's image.tar, streamed out of the zip; returns what docker says it loaded. */
async function loadIntoDocker(zipPath: string): Promise<string> {
  const zip = await openZip(zipPath);
  try {
    const { stdout } = await execa("docker", ["load"], { input: await zip.openEntry("image.tar") });
    return stdout.trim();
  } finally {
    await zip.close();
  }
}

async function dockerId(ref: string): Promise<string> {
  return (await execa("docker", ["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
}

/** Shared by the tests that follow one another: build, load, reuse. */
let projectDir: string;
beforeAll(async () => {
  projectDir = await serviceProject(undefined, await mkdtemp(join(tmpdir(), "c8y-ms-test-")));
});

afterAll(async () => {
  await rm(projectDir, { recursive: true, force: true });
  for (const ref of created.docker) await execa("docker", ["rmi", "--force", ref], { reject: false });
  for (const ref of created.podman) await execa("podman", ["rmi", "--force", ref], { reject: false });
});

describe("pack with docker (platform.md §2)", () => {
  let packed: PackResult;

  it("builds the service for linux/amd64 and zips it for upload", async () => {
    const run = await runCli(["pack", ...BASE, "--json"], { cwd: projectDir });
    expect(run.stderr).toContain(`Building ${TAG} for linux/amd64 with docker`);
    expect(run.exitCode).toBe(0);
    packed = run.json<PackResult>();
    expect(packed).toMatchObject({ file: join(projectDir, "dist", `${NAME}-1.0.0.zip`), image: { ref: TAG, architecture: "amd64" }, upToDate: false });
    expect(packed.image.id).toBe(await dockerId(TAG));

    const report = await checkBundleFile(packed.file);
    expect([...report.errors, ...report.warnings]).toEqual([]);
    expect(report.image?.images).toMatchObject([{ repoTags: [TAG], id: packed.image.id, os: "linux", architecture: "amd64", exposedPorts: ["80/tcp"] }]);
    const zip = await openZip(packed.file);
    expect(zip.entries.map((e) => e.name)).toEqual(["cumulocity.json", "image.tar"]);
    await zip.close();
  });

  it("reuses the zip while image and manifest are unchanged", async () => {
    const run = await runCli(["pack", ...BASE, "--json"], { cwd: projectDir });
    expect(run.exitCode).toBe(0);
    expect(run.json<PackResult>()).toEqual({ ...packed, upToDate: true });
    expect(run.stderr).toContain("is up to date");

    const retagged = await runCli(["pack", ...BASE, "--tag", `${NAME}:retagged`, "--output", "retagged.zip", "--json"], { cwd: projectDir });
    created.docker.add(`${NAME}:retagged`);
    expect(retagged.json<PackResult>()).toMatchObject({ upToDate: false, image: { id: packed.image.id, ref: `${NAME}:retagged` } });
  });

  it("packs an existing local image with --image, to --output", async () => {
    const run = await runCli(["pack", "--image", TAG, "--output", "other.zip", "--json"], { cwd: projectDir });
    expect(run.exitCode).toBe(0);
    expect(run.json<PackResult>()).toMatchObject({ file: join(projectDir, "other.zip"), image: { id: packed.image.id, ref: TAG } });
    const missing = await runCli(["pack", "--image", `${NAME}:does-not-exist`], { cwd: projectDir });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`✖ docker has no image ${NAME}:does-not-exist.`);
  });

  it("gives back the same image through docker load", async () => {
    // Last of the tests on TAG: `docker rmi` also drops the legacy builder's cached steps, so a
    // build after it makes a new image id and pack rightly finds it changed.
    await execa("docker", ["rmi", TAG]);
    expect(await loadIntoDocker(packed.file)).toBe(`Loaded image: ${TAG}`);
    expect(await dockerId(TAG)).toBe(packed.image.id);
  });

  it("refuses a local arm64 image (exit 3) before saving it", async () => {
    const ref = `${NAME}-arm:1`;
    created.docker.add(ref);
    await execa("docker", ["load"], { input: dockerArchive(syntheticImage({ architecture: "arm64" }), [ref]) });
    const run = await runCli(["pack", "--image", ref], { cwd: projectDir });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(`✖ ${ref} is built for linux/arm64; Cumulocity runs only linux/amd64 images.`);
    expect(run.stderr).toContain("--platform linux/amd64");
  });

  it("shows the engine's own words when the build fails, and leaves nothing behind", async () => {
    const dir = await serviceProject(`ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo "marker-$((6*7)): missing dependency" && false\n`);
    const tmp = await tempDir();
    const run = await runCli(["pack", ...BASE], { cwd: dir, env: { TMPDIR: tmp } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`✖ Building ${TAG} failed (docker exited with 1).`);
    expect(run.stderr).toMatch(/Last lines from docker:[\s\S]*marker-42: missing dependency/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(dir)).not.toContain("dist");
    expect(await readdir(tmp)).toEqual([]);
    // Nor the container of the failed step (the legacy builder keeps it without --force-rm).
    const containers = await execa("docker", ["ps", "--all", "--no-trunc", "--format", "{{.Command}}"]);
    expect(containers.stdout).not.toContain("marker-$((6*7))");
  });
});

describe("build with docker", () => {
  it("tags <name>:<version> for linux/amd64, or --tag; --verbose streams the engine's output", async () => {
    const run = await runCli(["build", ...BASE, "--json"], { cwd: projectDir });
    expect(run.exitCode).toBe(0);
    expect(run.json()).toMatchObject({ ref: TAG, id: await dockerId(TAG), os: "linux", architecture: "amd64", engine: "docker" });

    const custom = `${NAME}:custom`;
    created.docker.add(custom);
    const tagged = await runCli(["build", ...BASE, "--tag", custom, "--no-cache", "--verbose"], { cwd: projectDir });
    expect(tagged.exitCode).toBe(0);
    expect(tagged.stdout).toBe(custom);
    expect(tagged.stderr).toMatch(/\$ docker build --platform linux\/amd64 .*--no-cache --network host/);
    expect(tagged.stderr).toMatch(/COPY server\.js/);
  });
});

describe("pack with podman", () => {
  it("packs a podman-built image that docker loads", async () => {
    created.podman.add(`localhost/${TAG}`);
    const dir = await serviceProject();
    const run = await runCli(["pack", "--engine", "podman", ...BASE, "--json"], { cwd: dir });
    expect(run.stderr).toContain(`Building ${TAG} for linux/amd64 with podman`);
    expect(run.exitCode).toBe(0);
    const result = run.json<PackResult>();
    expect(result.image).toMatchObject({ ref: `localhost/${TAG}`, architecture: "amd64" });
    expect(await checkBundleFile(result.file)).toMatchObject({ errors: [], warnings: [] });
    created.docker.add(`localhost/${TAG}`);
    expect(await loadIntoDocker(result.file)).toBe(`Loaded image: localhost/${TAG}`);
  });

  it("converts a real OCI archive (podman save --format oci-archive) into a docker-archive that docker loads", async () => {
    const dir = await serviceProject();
    await execa("podman", ["save", "--format", "oci-archive", "--output", join(dir, "oci.tar"), `localhost/${TAG}`]);
    const run = await runCli(["pack", "--image-tar", "oci.tar", "--output", "oci.zip", "--json"], { cwd: dir });
    expect(run.stderr).toContain("Converting oci-layout to docker-archive");
    expect(run.exitCode).toBe(0);
    const result = run.json<PackResult>();
    const report = await checkBundleFile(result.file);
    expect([...report.errors, ...report.warnings]).toEqual([]);
    expect(report.image?.format).toBe("docker-archive");
    await execa("docker", ["rmi", "--force", `localhost/${TAG}`], { reject: false });
    expect(await loadIntoDocker(result.file)).toBe(`Loaded image: localhost/${TAG}`);
    expect(await dockerId(`localhost/${TAG}`)).toBe(result.image.id);
  });
});
