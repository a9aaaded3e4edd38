import { openAsBlob } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBundleFile, type BundleReport } from "../src/bundle/check.js";
import { CliError } from "../src/errors.js";
import { inspectImageTarFile } from "../src/image/image-tar.js";
import { selectImage } from "../src/image/normalise.js";
import { runCli } from "./helpers/cli.js";
import { recordFigure } from "./helpers/figures.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { tempDir } from "./helpers/tmp.js";
import { buildZip, DEPLOY_SAMPLE, HOSTILE_ARCHIVES, MANIFEST_BYTES, serviceEntries, type HostileArchive } from "./hostile/archives.js";

/**
 * The hostile archive corpus (test/hostile/archives.ts) through every door: the bundle check
 * in-process, `validate`, `pack --image-tar`, `deploy` and the sandbox's upload. Each case is
 * refused with exit 3 (422 from the sandbox) and a message that says what is wrong; the CLI
 * runs with a 256 MB heap, so a case that needs more memory than that crashes instead of
 * passing; nothing is written outside the run's own directories.
 */
const zips = HOSTILE_ARCHIVES.filter((c) => c.kind === "zip");
const tars = HOSTILE_ARCHIVES.filter((c) => c.kind === "image-tar");
const BOUNDED = { NODE_OPTIONS: "--max-old-space-size=256" };

/** The case as the file a user would have: the zip itself, or the image tar packed into a valid zip. */
async function written(archive: HostileArchive, dir: string, asZip: boolean, method: 0 | 8 = 8): Promise<string> {
  const raw = join(dir, archive.kind === "zip" ? "hostile.zip" : "image.tar");
  await archive.write(raw);
  if (archive.kind === "zip" || !asZip) return raw;
  const { readFile } = await import("node:fs/promises");
  const zip = join(dir, "hostile.zip");
  const [manifest] = serviceEntries();
  await writeFile(zip, buildZip([manifest!, { name: "image.tar", data: await readFile(raw), method }]));
  return zip;
}

function expectRefusal({ errors }: BundleReport, archive: HostileArchive): void {
  const found = errors.find((d) => d.rule === archive.rule);
  expect(found, `${archive.name}: ${JSON.stringify(errors.map((d) => [d.rule, d.message]))}`).toBeDefined();
  expect(found!.message).toMatch(archive.says);
}

describe("the zip check refuses every hostile archive (in-process)", () => {
  it.each(zips.map((c) => [c.name, c] as const))("%s", async (_, archive) => {
    const dir = await tempDir();
    expectRefusal(await checkBundleFile(await written(archive, dir, true)), archive);
    recordFigure("hostile-archives-refused", 1);
  });

  it.each(tars.map((c) => [c.name, c] as const))("%s, inside a stored and a deflated zip", async (_, archive) => {
    for (const method of [0, 8] as const) {
      const dir = await tempDir();
      expectRefusal(await checkBundleFile(await written(archive, dir, true, method)), archive);
    }
    recordFigure("hostile-archives-refused", 1);
  });

  it.each(tars.map((c) => [c.name, c] as const))("%s, as pack --image-tar reads it", async (_, archive) => {
    const dir = await tempDir();
    const path = await written(archive, dir, false);
    const error = await inspectImageTarFile(path)
      .then((file) => selectImage(file))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error, archive.name).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(3);
    expect((error as CliError).message).toMatch(archive.says);
  });
});

describe("validate and pack --image-tar refuse them with exit 3, bounded memory and nothing left behind", () => {
  it.each(zips.map((c) => [c.name, c] as const))("validate: %s", async (_, archive) => {
    const dir = await tempDir();
    await written(archive, dir, true);
    const tmp = join(dir, ".tmp");
    await mkdir(tmp);
    const run = await runCli(["validate", "hostile.zip", "--json"], { cwd: dir, env: { ...BOUNDED, TMPDIR: tmp } });
    expect(run.exitCode, run.stderr).toBe(3);
    const result = run.json<{ valid: boolean; errors: { rule: string; message: string }[] }>();
    expect(result.valid).toBe(false);
    expect(result.errors.find((e) => e.rule === archive.rule)?.message, JSON.stringify(result.errors)).toMatch(archive.says);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    expect((await readdir(dir)).sort()).toEqual([".tmp", "hostile.zip"]);
    expect(await readdir(tmp)).toEqual([]);
  });

  it.each(tars.map((c) => [c.name, c] as const))("pack --image-tar: %s", async (_, archive) => {
    const dir = await tempDir({ "cumulocity.json": MANIFEST_BYTES.toString() });
    await written(archive, dir, false);
    const tmp = join(dir, ".tmp");
    await mkdir(tmp);
    const run = await runCli(["pack", "--image-tar", "image.tar"], { cwd: dir, env: { ...BOUNDED, TMPDIR: tmp } });
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(archive.says);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    expect((await readdir(dir)).sort()).toEqual([".tmp", "cumulocity.json", "image.tar"]);
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe("deploy and the sandbox's upload refuse them, and the sandbox keeps serving", () => {
  let sandbox: SandboxHandle;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it.each(DEPLOY_SAMPLE.map((c) => [c.name, c] as const))("deploy: %s (exit 3, nothing created)", async (_, archive) => {
    const dir = await tempDir();
    await written(archive, dir, true);
    const before = (await (await sandbox.fetch("/application/applications?pageSize=2000")).json()) as { applications: unknown[] };
    const run = await runCli(["deploy", "hostile.zip"], { cwd: dir, env: { ...BOUNDED, ...sandbox.env() } });
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    const after = (await (await sandbox.fetch("/application/applications?pageSize=2000")).json()) as { applications: unknown[] };
    expect(after.applications.length).toBe(before.applications.length);
  });

  it.each(DEPLOY_SAMPLE.map((c) => [c.name, c] as const))("sandbox upload: %s (422, then it still answers)", async (_, archive) => {
    const dir = await tempDir();
    const zip = await written(archive, dir, true);
    const name = `hostile-${process.pid % 1000}-${DEPLOY_SAMPLE.indexOf(archive)}`;
    const created = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, key: name, type: "MICROSERVICE" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const form = new FormData();
    form.append("file", await openAsBlob(zip), "hostile.zip");
    const response = await sandbox.fetch(`/application/applications/${id}/binaries`, { method: "POST", body: form });
    expect(response.status).toBe(422);
    expect((await sandbox.fetch("/tenant/currentTenant")).status).toBe(200);
  });
});
