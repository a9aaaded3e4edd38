import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { REPO_ROOT } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";

describe("the npm package", () => {
  it("installs from its tarball into an empty project and runs through npx", async () => {
    const packDir = await tempDir();
    const { stdout } = await execa("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: REPO_ROOT });
    const [info] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    const shipped = info.files.map((f) => f.path);
    expect(shipped).toContain("bin/c8y-ms.js");
    expect(shipped).toContain("dist/main.js");
    expect(shipped).toContain("schemas/cumulocity.schema.json");
    expect(shipped).toContain("templates/node/package-lock.json");
    expect(shipped.some((p) => p.startsWith("src/") || p.startsWith("test/"))).toBe(false);

    const project = await tempDir({ "package.json": JSON.stringify({ name: "consumer", version: "1.0.0", private: true }) });
    await execa("npm", ["install", "--no-audit", "--no-fund", join(packDir, info.filename)], { cwd: project });
    // The installed copy, not the repository's: npx finds it in the project's node_modules.
    const npx = { wrap: ([, , ...args]: string[]): [string, string[]] => ["npx", ["--no-install", "c8y-ms", ...args]] };
    const run = await runCli(["--help"], { cwd: project, ...npx });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Usage: c8y-ms");
    expect(await readdir(join(project, "node_modules", ".bin"))).toContain("c8y-ms");

    // What `npx c8y-ms init` prints next must work without c8y-ms on PATH.
    const init = await runCli(["init", "svc", "--template", "dockerfile", "--name", "svc", "--no-git"], { cwd: project, ...npx });
    expect(init.exitCode).toBe(0);
    expect(init.stderr).toMatch(/^ {2}npx c8y-ms validate +# check cumulocity\.json$/m);
    expect(init.stderr).toMatch(/^ {2}npx c8y-ms deploy dist\/svc-1\.0\.0-SNAPSHOT\.zip --wait/m);
    const validate = await runCli(["validate"], { cwd: join(project, "svc"), ...npx });
    expect(validate.exitCode).toBe(0);
  });
});
