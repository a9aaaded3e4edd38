import { execa } from "execa";
import { truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { VALID_MANIFEST, type ValidateJson } from "./helpers/manifest.js";
import { makeServiceZip } from "./helpers/service-zip.js";
import { tempDir } from "./helpers/tmp.js";

const MANIFEST = { ...VALID_MANIFEST, name: "zip-service" };

describe("c8y-ms validate <zip> (platform.md §2)", () => {
  it("passes a zip with cumulocity.json and a linux/amd64 docker-archive image.tar at its root", async () => {
    const dir = await tempDir();
    await makeServiceZip(join(dir, "build"), MANIFEST);
    const run = await runCli(["validate", "build/service.zip", "--strict", "--json"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.json<ValidateJson>()).toEqual({ valid: true, errors: [], warnings: [] });
    expect(run.stderr).toContain("✔ build/service.zip is valid.");
  });

  it("checks the manifest inside the zip with positions, naming the file as zip!entry", async () => {
    const dir = await tempDir();
    const text = JSON.stringify({ ...MANIFEST, apiVersion: "1", isolation: "SINGLE" }, null, 2);
    await makeServiceZip(dir, text);
    const run = await runCli(["validate", "service.zip"], { cwd: dir });
    expect(run.exitCode).toBe(3);
    expect(run.stdout.split("\n")).toEqual([
      "service.zip!cumulocity.json: 2 errors, 0 warnings",
      expect.stringMatching(/^service\.zip!cumulocity\.json:2:17 {2}\/apiVersion {2}error: Use "2".*\[api-version-removed\]$/),
      'service.zip!cumulocity.json:15:16  /isolation  error: isolation "SINGLE" is not allowed: use "MULTI_TENANT" or "PER_TENANT". [enum-value]',
    ]);
  });

  it("reports a missing image.tar and extra entries at the zip's level", async () => {
    const dir = await tempDir();
    const zip = await makeServiceZip(dir, MANIFEST, { omit: ["image.tar"] });
    await writeFile(join(dir, "notes.txt"), "x");
    await execa("zip", ["-q", "-j", zip, join(dir, "notes.txt")]);
    const run = await runCli(["validate", zip, "--json"], { cwd: dir });
    expect(run.exitCode).toBe(3);
    const body = run.json<ValidateJson>();
    expect(body.errors).toMatchObject([
      { file: "service.zip", rule: "zip-entries", message: "The zip has no image.tar." },
      { file: "service.zip", rule: "zip-extra-entry", message: expect.stringContaining('"notes.txt"; the platform takes exactly cumulocity.json and image.tar') },
    ]);
    expect(body.warnings).toEqual([]);
  });

  it("fails a .zip that is not a zip, and one above the platform's 500 MB limit, with exit 3", async () => {
    const dir = await tempDir({ "fake.zip": "not a zip at all" });
    const fake = await runCli(["validate", "fake.zip", "--json"], { cwd: dir });
    expect(fake.exitCode).toBe(3);
    expect(fake.json<ValidateJson>().errors).toMatchObject([{ file: "fake.zip", rule: "zip-format", line: 1, column: 1 }]);

    // A sparse file: 501 MiB on paper, nothing on disk.
    await writeFile(join(dir, "huge.zip"), "");
    await truncate(join(dir, "huge.zip"), 501 * 1024 * 1024);
    const huge = await runCli(["validate", "huge.zip", "--json"], { cwd: dir });
    expect(huge.exitCode).toBe(3);
    expect(huge.json<ValidateJson>().errors.map((d) => d.rule)).toContain("zip-size");
  });
});
