import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CliError, ExitCode } from "../errors.js";
import { ManifestInvalidError } from "./diagnostics.js";
import { findManifestFile, loadManifest, manifestJson, ManifestNotFoundError, MANIFEST_FILE_NAMES } from "./load.js";

const VALID = { apiVersion: "2", name: "svc", version: "1.0.0", provider: { name: "Example" }, replicas: 2 };

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "c8y-ms-manifest-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

describe("finding and loading a manifest", () => {
  it("looks for cumulocity.json, then .yaml, then .yml", async () => {
    expect(MANIFEST_FILE_NAMES).toEqual(["cumulocity.json", "cumulocity.yaml", "cumulocity.yml"]);
    const dir = await project({ "cumulocity.yml": "a: 1", "cumulocity.yaml": "a: 1" });
    expect(await findManifestFile(dir)).toBe(join(dir, "cumulocity.yaml"));
    expect(await findManifestFile(await project({}))).toBeUndefined();
  });

  it("does not take a directory named cumulocity.json for the manifest", async () => {
    const dir = await project({});
    await mkdir(join(dir, "cumulocity.json"));
    expect(await findManifestFile(dir)).toBeUndefined();
  });

  it("loads a file or a project directory and reports with the file's path", async () => {
    const dir = await project({ "cumulocity.json": JSON.stringify(VALID) });
    const fromDir = await loadManifest(dir);
    expect(fromDir).toMatchObject({ file: join(dir, "cumulocity.json"), errors: [], warnings: [], manifest: VALID });
    expect(await loadManifest(join(dir, "cumulocity.json"))).toEqual(fromDir);
  });

  it("warns when a directory holds more than one manifest, naming the one it reads", async () => {
    const dir = await project({ "cumulocity.json": JSON.stringify(VALID), "cumulocity.yaml": "apiVersion: '2'\n" });
    const report = await loadManifest(dir);
    expect(report.errors).toEqual([]);
    expect(report.manifest).toEqual(VALID);
    expect(report.warnings).toMatchObject([
      { rule: "multiple-manifests", severity: "warning", line: 1, column: 1, pointer: "", message: expect.stringContaining("cumulocity.yaml is ignored: c8y-ms reads cumulocity.json") },
    ]);
  });

  it("throws a usage error (exit 2) for a missing path or a directory without a manifest", async () => {
    const dir = await project({});
    const missing = await loadManifest(join(dir, "nope.json")).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ManifestNotFoundError);
    expect((missing as CliError).exitCode).toBe(ExitCode.Usage);
    expect((missing as CliError).message).toBe(`${join(dir, "nope.json")} does not exist.`);
    const empty = (await loadManifest(dir).catch((e: unknown) => e)) as CliError;
    expect(empty.message).toBe(`No cumulocity.json, cumulocity.yaml or cumulocity.yml in ${dir}.`);
    expect(empty.hint).toContain("c8y-ms init");
  });

  it("throws a CliError (exit 1) naming the cause for a path it cannot read", async () => {
    const dir = await project({});
    await symlink("cumulocity.json", join(dir, "cumulocity.json"));
    const error = (await loadManifest(join(dir, "cumulocity.json")).catch((e: unknown) => e)) as CliError;
    expect(error).toBeInstanceOf(CliError);
    expect(error).not.toBeInstanceOf(ManifestNotFoundError);
    expect(error.exitCode).toBe(ExitCode.Failure);
    expect(error.message).toBe(`Cannot read ${join(dir, "cumulocity.json")}: a loop of symbolic links.`);
  });

  it("reads UTF-16 files written by some Windows editors", async () => {
    const text = JSON.stringify(VALID, null, 2);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const be = Buffer.from(le);
    be.subarray(2).swap16();
    be[0] = 0xfe;
    be[1] = 0xff;
    expect((await loadManifest(join(await project({ "cumulocity.json": le }), "cumulocity.json"))).manifest).toEqual(VALID);
    expect((await loadManifest(join(await project({ "cumulocity.json": be }), "cumulocity.json"))).manifest).toEqual(VALID);
  });
});

describe("manifestJson: the manifest pack writes into the zip", () => {
  it("keeps every field in the user's order, unknown ones included, and drops the editor's $schema", async () => {
    const dir = await project({
      "cumulocity.yaml": "$schema: ./schema.json\napiVersion: '2'\nversion: 1.0.0\nprovider:\n  name: Example\nexposeMcpServers:\n  - name: x\n",
    });
    const { manifest } = await loadManifest(dir);
    if (!manifest) throw new Error("expected a valid manifest");
    expect(manifestJson(manifest)).toBe(
      `${JSON.stringify({ apiVersion: "2", version: "1.0.0", provider: { name: "Example" }, exposeMcpServers: [{ name: "x" }] }, null, 2)}\n`,
    );
  });
});

describe("ManifestInvalidError", () => {
  it("exits 3 and repeats the first problems in its hint", async () => {
    const dir = await project({ "cumulocity.json": '{\n  "apiVersion": "1",\n  "version": "x",\n  "provider": {"name": "p"}\n}' });
    const report = await loadManifest(dir);
    const error = new ManifestInvalidError(report);
    expect(error.exitCode).toBe(ExitCode.Validation);
    expect(error.code).toBe("MANIFEST_INVALID");
    expect(error.diagnostics).toEqual(report.errors);
    expect(error.message).toBe(`${join(dir, "cumulocity.json")} is not a valid manifest: 2 problems found.`);
    expect(error.hint?.split("\n")).toEqual([
      `${join(dir, "cumulocity.json")}:2:17  /apiVersion  error: ${report.errors[0]?.message} [api-version-removed]`,
      `${join(dir, "cumulocity.json")}:3:14  /version  error: ${report.errors[1]?.message} [version-semver]`,
      "Fix them and run `c8y-ms validate` to check again.",
    ]);
  });
});
