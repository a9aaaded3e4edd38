import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { describeWithTools } from "./helpers/tools.js";

/**
 * Each template's own tests, run in a freshly scaffolded project as its user would run them.
 * The code must also run on this machine's Node.js 20 and Python 3.11 (the templates target
 * Node 22 and Python 3.12 but promise the older ones).
 */
async function scaffold(template: string): Promise<{ dir: string; install: string }> {
  const cwd = await tempDir();
  const run = await runCli(["init", "svc", "--template", template, "--no-git", "--json"], { cwd });
  expect(run.exitCode, run.stderr).toBe(0);
  return { dir: join(cwd, "svc"), install: run.json<{ install: string }>().install };
}

describeWithTools(["npm", "python3"], "each template's own tests", () => {
  test("node: init installs the locked dependencies, the lock file reproduces (npm ci) and npm test passes", async () => {
    const { dir, install } = await scaffold("node");
    // init ran `npm install` itself: the registry is reachable here.
    expect(install).toBe("done");
    expect((await stat(join(dir, "node_modules", "typescript", "package.json"))).isFile()).toBe(true);
    expect(JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8"))).toMatchObject({ name: "svc", packages: { "": { name: "svc" } } });
    await execa("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir });
    const tests = await execa("npm", ["test"], { cwd: dir, reject: false, all: true });
    expect(tests.exitCode, tests.all).toBe(0);
    expect(tests.all).toMatch(/# pass \d+\n# fail 0/);
  });

  test("python: python3 -m unittest passes with the standard library only", async () => {
    const { dir } = await scaffold("python");
    const tests = await execa("python3", ["-m", "unittest", "-v"], { cwd: dir, reject: false, all: true });
    expect(tests.exitCode, tests.all).toBe(0);
    expect(tests.all).toMatch(/Ran \d+ tests in [\d.]+s\n\nOK/);
  });
});
