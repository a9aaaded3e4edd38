import { execa } from "execa";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/** A tiny image of our own, built offline FROM scratch, saved by a real `docker save` and zipped by the zip CLI. */
const IMAGE = `c8y-ms-test/validate-zip-${process.pid}:1.0.0`;

afterAll(async () => {
  await execa("docker", ["rmi", "--force", IMAGE], { reject: false });
});

describe("c8y-ms validate on a zip made by docker save and zip (platform.md §2)", () => {
  it("passes with --strict when the image is linux/amd64 and exposes port 80, and reports a manifest problem inside it", async () => {
    const dir = await tempDir({
      "context/Dockerfile": 'FROM scratch\nCOPY hello.txt /\nEXPOSE 80\nLABEL c8y-ms-test=validate\nCMD ["/hello"]\n',
      "context/hello.txt": "hello\n",
    });
    await execa("docker", ["build", "--network", "host", "--platform", "linux/amd64", "-t", IMAGE, join(dir, "context")]);
    await execa("docker", ["save", "-o", join(dir, "image.tar"), IMAGE]);
    const manifest = { apiVersion: "2", name: "validate-zip", version: "1.0.0", provider: { name: "Example" }, replicas: 2 };
    await writeFile(join(dir, "cumulocity.json"), JSON.stringify(manifest, null, 2));
    await execa("zip", ["-q", "good.zip", "cumulocity.json", "image.tar"], { cwd: dir });

    const good = await runCli(["validate", "good.zip", "--strict"], { cwd: dir });
    expect(good.stdout).toBe("");
    expect(good.stderr).toBe("✔ good.zip is valid.");
    expect(good.exitCode).toBe(0);

    await writeFile(join(dir, "cumulocity.json"), JSON.stringify({ ...manifest, version: "1.0" }, null, 2));
    await execa("zip", ["-q", "bad.zip", "cumulocity.json", "image.tar"], { cwd: dir });
    const bad = await runCli(["validate", "bad.zip", "--json"], { cwd: dir });
    expect(bad.exitCode).toBe(3);
    expect(bad.json()).toEqual({
      valid: false,
      errors: [
        {
          file: "bad.zip!cumulocity.json",
          line: 4,
          column: 14,
          pointer: "/version",
          message: 'version "1.0" is not a valid semantic version: it needs three numbers, MAJOR.MINOR.PATCH: write "1.0.0".',
          rule: "version-semver",
        },
      ],
      warnings: [],
    });
  });
});
