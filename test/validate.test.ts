import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { VALID_MANIFEST as VALID, type ValidateJson } from "./helpers/manifest.js";
import { CORPUS_DIR } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe("c8y-ms validate (spec/cli.md)", () => {
  it("passes a valid project directory: exit 0, nothing on stdout, a success line on stderr", async () => {
    const dir = await tempDir({ "cumulocity.json": json(VALID) });
    const run = await runCli(["validate"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("✔ cumulocity.json is valid.");
  });

  it("fails an invalid manifest with exit 3 and prints each problem as file:line:column  pointer  message", async () => {
    const text = '{\n  "apiVersion": "1",\n  "name": "My_Service",\n  "version": "1.0.0",\n  "provider": {"name": "x"},\n  "isolaton": "PER_TENANT"\n}\n';
    const dir = await tempDir({ "svc/cumulocity.json": text });
    const run = await runCli(["validate", "svc"], { cwd: dir });
    expect(run.exitCode).toBe(3);
    expect(run.stdout.split("\n")).toEqual([
      "svc/cumulocity.json: 2 errors, 1 warning",
      'svc/cumulocity.json:2:17  /apiVersion  error: Use "2": apiVersion 1 was removed from the platform, which may refuse to upload or subscribe this service. Version 2 runs the container with only the NET_BIND_SERVICE capability. [api-version-removed]',
      'svc/cumulocity.json:3:11  /name  error: name "My_Service" may contain only lowercase letters, digits and dashes: write "my-service". [name-format]',
      'svc/cumulocity.json:6:3  /isolaton  warning: Unknown field "isolaton": did you mean "isolation"? [unknown-field]',
    ]);
    expect(run.stderr).toBe("✖ svc/cumulocity.json did not pass validation: 2 errors, 1 warning.");
  });

  it("reports 32,953 problems in full, as text and as JSON (rendering is one pass, skipped under --json)", async () => {
    const count = 32_953;
    const requiredRoles = Array.from({ length: count }, (_, i) => `bad role ${i}`);
    const dir = await tempDir({ "cumulocity.json": json({ ...VALID, requiredRoles }) });
    const text = await runCli(["validate"], { cwd: dir });
    expect(text.exitCode).toBe(3);
    const lines = text.stdout.split("\n");
    expect(lines).toHaveLength(count + 1);
    expect(lines[0]).toBe(`cumulocity.json: ${count} errors, 0 warnings`);
    expect(lines.at(-1)).toMatch(new RegExp(`^cumulocity\\.json:\\d+:5  /requiredRoles/${count - 1}  error: "bad role ${count - 1}" is not a permission string .*\\[role-format\\]$`));
    const body = (await runCli(["validate", "--json"], { cwd: dir })).json<ValidateJson>();
    expect(body.errors).toHaveLength(count);
    expect(body.errors.map((d) => d.pointer)).toEqual(requiredRoles.map((_, i) => `/requiredRoles/${i}`));
  });

  it("prints exactly {valid, errors, warnings} with --json, diagnostics as {file, line, column, pointer, message, rule}", async () => {
    const dir = await tempDir({ "cumulocity.json": json({ ...VALID, apiVersion: "1", replicas: 1 }) });
    const run = await runCli(["validate", "--json"], { cwd: dir });
    expect(run.exitCode).toBe(3);
    const body = run.json<ValidateJson>();
    expect(Object.keys(body)).toEqual(["valid", "errors", "warnings"]);
    expect(body.valid).toBe(false);
    expect(body.errors).toEqual([
      { file: "cumulocity.json", line: 2, column: 17, pointer: "/apiVersion", message: expect.stringContaining('Use "2"'), rule: "api-version-removed" },
    ]);
    expect(body.warnings).toEqual([{ file: "cumulocity.json", line: 8, column: 15, pointer: "/replicas", message: expect.any(String), rule: "replicas-production" }]);
  });

  it("lets warnings pass by default and fail with --strict", async () => {
    const dir = await tempDir({ "cumulocity.json": json({ ...VALID, replicas: 1 }) });
    const relaxed = await runCli(["validate"], { cwd: dir });
    expect(relaxed.exitCode).toBe(0);
    expect(relaxed.stdout).toContain("cumulocity.json:8:15  /replicas  warning: replicas is 1");
    expect(relaxed.stderr).toBe("✔ cumulocity.json is valid, with 1 warning.");

    const strict = await runCli(["validate", "--strict", "--json"], { cwd: dir });
    expect(strict.exitCode).toBe(3);
    expect(strict.json<ValidateJson>()).toMatchObject({ valid: false, errors: [], warnings: [{ rule: "replicas-production" }] });
    expect(strict.stderr).toContain("(--strict makes warnings fail)");
  });

  it("validates a YAML manifest found in a directory, with YAML positions", async () => {
    const dir = await tempDir({ "cumulocity.yaml": 'apiVersion: "2"\nversion: "1.0.0"\nprovider:\n  name: Example\nreplicas: 7\n' });
    const run = await runCli(["validate", "--json"], { cwd: dir });
    expect(run.exitCode).toBe(3);
    expect(run.json<ValidateJson>().errors).toEqual([
      { file: "cumulocity.yaml", line: 5, column: 11, pointer: "/replicas", message: "replicas is 7; the platform allows 1 to 5: write 5.", rule: "replicas-range" },
    ]);
  });

  it("reports JSON syntax errors with their line and column, also in CRLF files (corpus 060, 018)", async () => {
    const dir = await tempDir();
    await copyFile(join(CORPUS_DIR, "060-SoftwareAG-cumulocity-clients-cs.json"), join(dir, "broken.json"));
    await copyFile(join(CORPUS_DIR, "018-SoftwareAG-cumulocity-provision-epl.json"), join(dir, "crlf.json"));
    const broken = await runCli(["validate", "broken.json", "--json"], { cwd: dir });
    expect(broken.exitCode).toBe(3);
    expect(broken.json<ValidateJson>().errors).toMatchObject([{ file: "broken.json", line: 4, column: 3, pointer: "", rule: "json-syntax" }]);
    const crlf = await runCli(["validate", join(dir, "crlf.json")], { cwd: dir });
    expect(crlf.exitCode).toBe(3);
    expect(crlf.stdout).toContain("crlf.json:3:11  /name  error: name \"cumulocity-epl-provision\" has 24 characters");
  });

  it("treats a path that does not exist as a usage error (exit 2) with a hint", async () => {
    const dir = await tempDir();
    const run = await runCli(["validate", "nope/cumulocity.json"], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("✖ nope/cumulocity.json does not exist.");
    expect(run.stderr).toContain("Pass a project directory, a cumulocity.json or cumulocity.yaml file, or a built .zip");
    const asJson = await runCli(["validate", "nope", "--json"], { cwd: dir });
    expect(asJson.exitCode).toBe(2);
    expect(asJson.json()).toEqual({ error: { code: "USAGE", message: "nope does not exist.", hint: expect.any(String) } });
  });

  it("treats a directory without a manifest as a usage error (exit 2) that suggests init", async () => {
    const dir = await tempDir({ "README.md": "hello" });
    const run = await runCli(["validate", "--json"], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.json<{ error: { code: string; message: string; hint: string } }>().error).toMatchObject({
      code: "MANIFEST_NOT_FOUND",
      message: `No cumulocity.json, cumulocity.yaml or cumulocity.yml in ${dir}.`,
      hint: expect.stringContaining("c8y-ms init"),
    });
  });

  it("keeps problem lines on stdout under --quiet, so scripts still get them", async () => {
    const dir = await tempDir({ "cumulocity.json": json({ ...VALID, replicas: 1 }) });
    const run = await runCli(["validate", "--quiet"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("/replicas  warning:");
    expect(run.stderr).toBe("");
  });
});
