import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { checkManifestText } from "../src/manifest/load.js";
import { planFiles } from "../src/scaffold/scaffold.js";
import { listTemplates } from "../src/scaffold/catalog.js";
import { runCli, spawnCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const templates = await listTemplates();

interface InitJson {
  dir: string;
  name: string;
  template: string;
  isolation: string;
  files: string[];
  skipped: string[];
  install: string;
  git: string;
  nextSteps: string[];
}

/** A bin directory holding only node (and whatever else is given): git, npm and the rest are "not installed". */
async function pathWith(tools: Record<string, string> = {}): Promise<string> {
  const bin = await tempDir();
  await symlink(process.execPath, join(bin, "node"));
  for (const [name, script] of Object.entries(tools)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${script}\n`);
    await chmod(join(bin, name), 0o755);
  }
  return bin;
}

describe.each(templates.map((t) => [t.id] as const))("init --template %s without a terminal", (id) => {
  test("writes the template's files with the answers from the flags, and the project validates", async () => {
    const cwd = await tempDir();
    const run = await runCli(
      ["init", "svc", "--template", id, "--name", `${id}-svc`, "--isolation", "PER_TENANT", "--required-roles", "ROLE_INVENTORY_READ,ROLE_ALARM_ADMIN", "--provider", "Example Ltd.", "--no-install", "--no-git", "--yes", "--json"],
      { cwd },
    );
    expect(run.stderr).toContain(`Scaffolding ${id}-svc from the ${id} template in ./svc`);
    expect(run.exitCode).toBe(0);
    const result = run.json<InitJson>();
    const template = templates.find((t) => t.id === id)!;
    expect(result).toEqual({
      dir: join(cwd, "svc"),
      name: `${id}-svc`,
      template: id,
      isolation: "PER_TENANT",
      files: (await planFiles(template)).map((f) => f.path),
      skipped: [],
      install: "skipped",
      git: "skipped",
      nextSteps: [
        "cd svc",
        ...(template.install ? [template.install.join(" ")] : []),
        "c8y-ms validate",
        `c8y-ms pack --build-arg BASE_IMAGE=${template.baseImage}`,
        "c8y-ms sandbox",
        `c8y-ms deploy dist/${id}-svc-1.0.0-SNAPSHOT.zip --wait`,
      ],
    });
    for (const file of result.files) expect((await stat(join(cwd, "svc", file))).isFile()).toBe(true);

    const text = await readFile(join(cwd, "svc", "cumulocity.json"), "utf8");
    const report = checkManifestText(text, "cumulocity.json");
    expect([...report.errors, ...report.warnings]).toEqual([]);
    expect(JSON.parse(text)).toMatchObject({
      apiVersion: "2",
      name: `${id}-svc`,
      isolation: "PER_TENANT",
      provider: { name: "Example Ltd." },
      requiredRoles: ["ROLE_INVENTORY_READ", "ROLE_ALARM_ADMIN"],
    });
    const readme = await readFile(join(cwd, "svc", "README.md"), "utf8");
    expect(readme.startsWith(`# ${id}-svc\n`)).toBe(true);
    expect(readme).not.toMatch(/\{\{\s*\w+\s*\}\}/);

    const validate = await runCli(["validate"], { cwd: join(cwd, "svc") });
    expect(validate.exitCode).toBe(0);
  });
});

test("without a terminal, the directory's name is the default name and every other answer has a default", async () => {
  const cwd = await tempDir();
  const run = await runCli(["init", "tracker", "--no-install", "--no-git"], { cwd });
  expect(run.exitCode).toBe(0);
  // Without --json nothing goes to stdout; the summary and next steps are for people, on stderr.
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain("✔ Created 20 files in ./tracker");
  expect(run.stderr).toMatch(/Next steps:\n {2}cd tracker\n {2}npm install\n {2}c8y-ms validate +# check cumulocity.json\n {2}c8y-ms pack --build-arg BASE_IMAGE=node:22-alpine +# build the image and zip it into dist\/\n {2}c8y-ms sandbox +# in another terminal: a local platform; export the C8Y_\* variables it prints\n {2}c8y-ms deploy dist\/tracker-1.0.0-SNAPSHOT.zip --wait +# upload, subscribe and wait until the service is Up$/);
  const manifest = JSON.parse(await readFile(join(cwd, "tracker", "cumulocity.json"), "utf8"));
  expect(manifest).toMatchObject({ name: "tracker", isolation: "MULTI_TENANT", provider: { name: "My Company" }, requiredRoles: [] });
});

test("with CI set and no name anywhere it never prompts: exit 2 naming --name, nothing created", async () => {
  const cwd = await tempDir();
  const run = await runCli(["init", "--template", "python"], { cwd });
  expect(run.exitCode).toBe(2);
  expect(run.stderr).toBe("✖ Missing microservice name.\n  Pass --name; c8y-ms does not prompt without a terminal or when CI is set.");
  expect(await readdir(cwd)).toEqual([]);
});

test.each([
  [["--name", "My_Service"], '✖ --name: name "My_Service" may contain only lowercase letters, digits and dashes: write "my-service".'],
  [["--name", "x".repeat(24)], "has 24 characters; the platform allows at most 23: shorten it."],
  [["--name", "svc", "--required-roles", "ROLE INVENTORY"], '✖ --required-roles: "ROLE INVENTORY" is not a permission string (no spaces, not empty): write "ROLE_INVENTORY".'],
  [["--name", "svc", "--template", "java"], '✖ There is no template "java".\n  Choose one of: node, python, dockerfile'],
  [["--name", "svc", "--provider", "  "], "✖ --provider is empty."],
  [["--name", "svc", "--isolation", "SHARED"], "✖ Option '--isolation <isolation>' argument 'SHARED' is invalid. Allowed choices are MULTI_TENANT, PER_TENANT."],
  [["Not_A_Name"], '✖ The directory name "Not_A_Name" cannot be the microservice name: name "Not_A_Name" may contain only lowercase letters, digits and dashes: write "not-a-name".\n  Pass the name with --name.'],
])("bad input %j is a usage error (exit 2) and writes nothing", async (args, message) => {
  const cwd = await tempDir();
  const run = await runCli(["init", ...args, "--no-install", "--no-git"], { cwd });
  expect(run.exitCode).toBe(2);
  expect(run.stderr).toContain(message);
  expect(await readdir(cwd)).toEqual([]);
});

test("--list-templates prints a table, and a JSON list with --json", async () => {
  const table = await runCli(["init", "--list-templates"]);
  expect(table.exitCode).toBe(0);
  expect(table.stdout.split("\n")[0]).toMatch(/^node {8}Node\.js \(TypeScript\) {5}TypeScript on Node\.js 22/);
  expect(table.stdout).toMatch(/\npython {6}Python {19}Python 3\.12/);
  expect(table.stdout).toMatch(/\ndockerfile {2}Bring your own language {2}A manifest/);

  const json = await runCli(["init", "--list-templates", "--json"]);
  expect(json.json()).toEqual({
    templates: templates.map(({ id, title, description, baseImage }) => ({ id, title, description, baseImage })),
  });
});

describe("a directory that is not empty", () => {
  test("is refused without --force (exit 2), and nothing in it changes", async () => {
    const cwd = await tempDir({ "svc/README.md": "mine" });
    const run = await runCli(["init", "svc", "--template", "python", "--no-git"], { cwd });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(
      "✖ ./svc is not empty.\n  Pass --force to add the template's files beside what is there (existing files are kept), or choose another directory.",
    );
    expect(await readdir(join(cwd, "svc"))).toEqual(["README.md"]);
  });

  test("with --force gets the template's files beside its own; existing files are kept and reported", async () => {
    const cwd = await tempDir({ "svc/README.md": "mine", "svc/app/server.py": "# my server\n", "svc/notes.txt": "notes" });
    const run = await runCli(["init", "svc", "--template", "python", "--force", "--no-git", "--json"], { cwd });
    expect(run.exitCode).toBe(0);
    const result = run.json<InitJson>();
    expect(result.skipped).toEqual(["app/server.py", "README.md"]);
    expect(result.files).toContain("cumulocity.json");
    expect(result.files).not.toContain("README.md");
    expect(run.stderr).toContain("⚠ Kept the existing README.md; the template's version was not written.");
    expect(await readFile(join(cwd, "svc/README.md"), "utf8")).toBe("mine");
    expect(await readFile(join(cwd, "svc/app/server.py"), "utf8")).toBe("# my server\n");
    expect(await readFile(join(cwd, "svc/notes.txt"), "utf8")).toBe("notes");
  });

  test("with --force keeps a package.json together with its lock file, and says a kept manifest keeps its own answers", async () => {
    const mine = JSON.stringify({ name: "mine", version: "2.0.0", private: true });
    const cwd = await tempDir({ "svc/package.json": mine, "svc/cumulocity.json": JSON.stringify({ apiVersion: "2", name: "old-name", version: "1.0.0", provider: { name: "Me" } }) });
    const run = await runCli(["init", "svc", "--template", "node", "--name", "new-name", "--force", "--no-git", "--no-install", "--json"], { cwd });
    expect(run.exitCode).toBe(0);
    const result = run.json<InitJson>();
    expect(result.skipped).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "cumulocity.json"]));
    expect(result.files).toContain("Dockerfile");
    await expect(readFile(join(cwd, "svc/package-lock.json"))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(cwd, "svc/package.json"), "utf8")).toBe(mine);
    expect(run.stderr).toContain("Kept the existing package.json, so the template's package-lock.json was not written either: run npm install");
    expect(run.stderr).toContain("⚠ Kept the existing cumulocity.json; the template's version was not written. Its name, isolation, roles and provider stay as they are there.");
    expect(run.stderr).toMatch(/c8y-ms deploy dist\/old-name-1\.0\.0\.zip --wait/);
  });

  test("holding only .git (a fresh clone) counts as empty, and no second repository is made", async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, "svc"));
    await execa("git", ["init", "--quiet"], { cwd: join(cwd, "svc") });
    const run = await runCli(["init", "svc", "--template", "dockerfile", "--json"], { cwd });
    expect(run.exitCode).toBe(0);
    expect(run.json<InitJson>().git).toBe("skipped");
    expect(run.stderr).toContain("The project is inside a git repository already: no new one made.");
  });
});

describe("the git step", () => {
  const identity = { GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com" };

  test("makes a repository whose first commit holds every file, .gitignore included", async () => {
    const cwd = await tempDir();
    const run = await runCli(["init", "svc", "--template", "python", "--json"], { cwd, env: identity });
    expect(run.exitCode).toBe(0);
    expect(run.json<InitJson>().git).toBe("done");
    const log = await execa("git", ["log", "--format=%s"], { cwd: join(cwd, "svc") });
    expect(log.stdout).toBe("Initial commit from c8y-ms init");
    const tracked = (await execa("git", ["ls-files"], { cwd: join(cwd, "svc") })).stdout.split("\n");
    expect(tracked.sort()).toEqual([...run.json<InitJson>().files].sort());
  });

  test("without git installed, warns and finishes: the project is complete", async () => {
    const cwd = await tempDir();
    const run = await runCli(["init", "svc", "--template", "python", "--json"], { cwd, env: { PATH: await pathWith() } });
    expect(run.exitCode).toBe(0);
    expect(run.json<InitJson>().git).toBe("failed");
    expect(run.stderr).toContain("⚠ No git repository made: git is not installed (not on PATH).");
    expect(await readdir(join(cwd, "svc"))).toContain("cumulocity.json");
  });
});

describe("the install step", () => {
  test("a failing npm install warns, keeps the project and lists the install in the next steps", async () => {
    const cwd = await tempDir();
    const PATH = await pathWith({ npm: 'echo "npm ERR! network request to https://registry.npmjs.org failed" >&2; exit 1' });
    const run = await runCli(["init", "svc", "--template", "node", "--no-git", "--json"], { cwd, env: { PATH } });
    expect(run.exitCode).toBe(0);
    const result = run.json<InitJson>();
    expect(result.install).toBe("failed");
    expect(result.nextSteps).toContain("npm install");
    expect(run.stderr).toContain(
      "⚠ npm install failed: `npm install` failed with exit code 1. npm ERR! network request to https://registry.npmjs.org failed The project is complete; run `npm install` in it yourself.",
    );
    expect(await readdir(join(cwd, "svc"))).toContain("package.json");
  });

  test("Ctrl-C during npm install removes the project init created (exit 130)", async () => {
    const cwd = await tempDir();
    const PATH = await pathWith({ npm: "/bin/mkdir -p node_modules/partial && exec /bin/sleep 30" });
    const { child, result } = spawnCli(["init", "svc", "--template", "node", "--no-git"], { cwd, env: { PATH } });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += String(chunk)));
    const exited = result.then((run) => run.exitCode);
    await expect.poll(() => stderr, { timeout: 20_000 }).toContain("Installing dependencies (npm install)...");
    await expect.poll(async () => readdir(join(cwd, "svc")).catch(() => []), { timeout: 20_000 }).toContain("node_modules");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(await readdir(cwd)).toEqual([]);
  });
});
