import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { CancelledError, UsageError } from "../errors.js";
import type { Answers } from "./answers.js";
import { findTemplate, listTemplates, TemplateError, type Template } from "./catalog.js";
import { CreatedPaths, planFiles, scaffold } from "./scaffold.js";

const answers: Answers = { name: "tracker", template: "fixture", isolation: "PER_TENANT", provider: "Example Ltd.", requiredRoles: ["ROLE_INVENTORY_READ"] };

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "c8y-ms-scaffold-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A small template on disk: files are written as given, modes where a number follows. */
async function fixtureTemplate(files: Record<string, string | [string, number]>, render: string[] = ["README.md"]): Promise<Template> {
  const dir = await tempDir();
  for (const [path, spec] of Object.entries(files)) {
    const [content, mode] = typeof spec === "string" ? [spec, 0o644] : spec;
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content, { mode });
  }
  return { id: "fixture", title: "Fixture", description: "A test template", order: 1, baseImage: "busybox:1.37", render, dir };
}

const manifest = JSON.stringify({ apiVersion: "2", name: "x", version: "1.0.0", provider: { name: "x" }, isolation: "MULTI_TENANT", requiredRoles: [] }, null, 2);

async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory()) out.push(...(await tree(join(dir, entry.name), `${path}/`)));
    else out.push(path);
  }
  return out.sort();
}

test("copies every file, renames the stored dotfiles, fills in the answers and keeps file modes", async () => {
  const template = await fixtureTemplate({
    "template.json": "{}",
    "README.md": "# {{name}}\nRoles: {{requiredRoles}}\n",
    "cumulocity.json": manifest,
    _gitignore: "dist/\n",
    _dockerignore: ".git\n",
    "bin/start.sh": ["#!/bin/sh\necho {{name}} stays as written\n", 0o755],
    "node_modules/left-behind.js": "",
    "app/__pycache__/x.pyc": "",
  });
  const target = join(await tempDir(), "tracker");
  const result = await scaffold({ template, targetDir: target, answers, created: new CreatedPaths() });

  expect(result).toEqual({ files: [".dockerignore", ".gitignore", "bin/start.sh", "cumulocity.json", "README.md"], skipped: [] });
  expect(await tree(target)).toEqual([".dockerignore", ".gitignore", "README.md", "bin/start.sh", "cumulocity.json"]);
  expect(await readFile(join(target, "README.md"), "utf8")).toBe("# tracker\nRoles: ROLE_INVENTORY_READ\n");
  expect(await readFile(join(target, "bin/start.sh"), "utf8")).toBe("#!/bin/sh\necho {{name}} stays as written\n");
  expect((await stat(join(target, "bin/start.sh"))).mode & 0o111).toBe(0o111);
  expect(JSON.parse(await readFile(join(target, "cumulocity.json"), "utf8"))).toMatchObject({
    name: "tracker",
    isolation: "PER_TENANT",
    provider: { name: "Example Ltd." },
    requiredRoles: ["ROLE_INVENTORY_READ"],
  });
});

test("never replaces a file that exists: it is kept byte for byte and reported as skipped", async () => {
  const template = await fixtureTemplate({ "README.md": "# {{name}}\n", "cumulocity.json": manifest, "src/main.txt": "template" });
  const target = await tempDir();
  await mkdir(join(target, "src"));
  await writeFile(join(target, "README.md"), "my own readme");
  await writeFile(join(target, "src/main.txt"), "my own code");

  const result = await scaffold({ template, targetDir: target, answers, created: new CreatedPaths() });
  expect(result).toEqual({ files: ["cumulocity.json"], skipped: ["README.md", "src/main.txt"] });
  expect(await readFile(join(target, "README.md"), "utf8")).toBe("my own readme");
  expect(await readFile(join(target, "src/main.txt"), "utf8")).toBe("my own code");
  expect((await readdir(target)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
});

test("a file where the template needs a directory stops it before anything is written", async () => {
  const template = await fixtureTemplate({ "README.md": "# {{name}}\n", "src/main.txt": "x" });
  const target = await tempDir();
  await writeFile(join(target, "src"), "a file, not a directory");
  await expect(scaffold({ template, targetDir: target, answers, created: new CreatedPaths() })).rejects.toThrow(UsageError);
  expect(await readdir(target)).toEqual(["src"]);
});

test("after a failure, removeAll takes back what was created and nothing that was there", async () => {
  // The second file uses a placeholder without a value: the template is broken half-way.
  const template = await fixtureTemplate({ "a/first.md": "# {{name}}\n", "b/second.md": "{{unknown}}" }, ["a/first.md", "b/second.md"]);
  const target = await tempDir();
  await writeFile(join(target, "mine.txt"), "mine");
  const created = new CreatedPaths();
  await expect(scaffold({ template, targetDir: target, answers, created })).rejects.toThrow(TemplateError);
  expect(await tree(target)).toEqual(["a/first.md", "mine.txt"]);
  await created.removeAll();
  expect(await tree(target)).toEqual(["mine.txt"]);
});

test("an aborted signal (Ctrl-C) stops between files with CancelledError", async () => {
  const template = await fixtureTemplate({ "README.md": "# {{name}}\n" });
  const controller = new AbortController();
  controller.abort();
  const target = join(await tempDir(), "new");
  await expect(scaffold({ template, targetDir: target, answers, created: new CreatedPaths(), signal: controller.signal })).rejects.toThrow(CancelledError);
  await expect(stat(target)).rejects.toThrow();
});

test("planFiles lists a real template's files with their project paths", async () => {
  const node = findTemplate(await listTemplates(), "node");
  const paths = (await planFiles(node)).map((f) => f.path);
  expect(paths).toContain("src/main.ts");
  expect(paths).toContain(".gitignore");
  expect(paths).not.toContain("_gitignore");
  expect(paths).not.toContain("template.json");
});
