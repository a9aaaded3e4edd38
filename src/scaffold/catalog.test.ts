import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UsageError } from "../errors.js";
import { checkManifestText } from "../manifest/load.js";
import { templateValues } from "./answers.js";
import { findTemplate, listTemplates, TemplateError } from "./catalog.js";
import { renderText } from "./render.js";
import { planFiles } from "./scaffold.js";

const templates = await listTemplates();
const sample = templateValues({ name: "my-service", template: "node", isolation: "MULTI_TENANT", provider: "Example Ltd.", requiredRoles: [] });

test("the catalog lists node, python and dockerfile, in that order", () => {
  expect(templates.map((t) => t.id)).toEqual(["node", "python", "dockerfile"]);
});

describe.each(templates.map((t) => [t.id, t] as const))("template %s", (id, template) => {
  test("lives in the folder of its id and has a README, .gitignore, .dockerignore, Dockerfile and manifest", async () => {
    expect(template.dir.endsWith(join("templates", id))).toBe(true);
    const paths = (await planFiles(template)).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["README.md", ".gitignore", ".dockerignore", "Dockerfile", "cumulocity.json"]));
    for (const rendered of template.render) expect(paths, `render lists ${rendered}`).toContain(rendered);
  });

  test("its cumulocity.json is a clean apiVersion 2 manifest with both probes on /health (platform.md §1.5, §1.8)", async () => {
    const text = await readFile(join(template.dir, "cumulocity.json"), "utf8");
    const report = checkManifestText(text, "cumulocity.json");
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    const manifest = JSON.parse(text) as Record<string, any>;
    expect(manifest.apiVersion).toBe("2");
    expect(manifest.livenessProbe.httpGet).toEqual({ path: "/health" });
    expect(manifest.readinessProbe.httpGet).toEqual({ path: "/health" });
    expect(manifest.resources).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });

  test(`its Dockerfile takes the base image from the BASE_IMAGE build argument, default ${template.baseImage}`, async () => {
    const dockerfile = await readFile(join(template.dir, "Dockerfile"), "utf8");
    const lines = dockerfile.split("\n").filter((l) => !l.startsWith("#") && l.trim());
    expect(lines[0]).toBe(`ARG BASE_IMAGE=${template.baseImage}`);
    const froms = lines.filter((l) => l.startsWith("FROM "));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM \$\{BASE_IMAGE\}( AS \w+)?$/);
  });

  test("its rendered files use only known placeholders, and no other file carries one", async () => {
    for (const file of await planFiles(template)) {
      const text = await readFile(file.source, "utf8");
      if (template.render.includes(file.templatePath)) {
        expect(renderText(text, sample)).not.toMatch(/\{\{\s*[A-Za-z]/);
      } else {
        for (const key of Object.keys(sample)) expect(text, `${file.templatePath} holds {{${key}}} but is not in render`).not.toMatch(new RegExp(`\\{\\{\\s*${key}\\s*\\}\\}`));
      }
    }
  });
});

test("an unknown template id is a usage error that lists the ids", () => {
  expect(() => findTemplate(templates, "java")).toThrow(UsageError);
  try {
    findTemplate(templates, "java");
  } catch (error) {
    expect((error as UsageError).message).toBe('There is no template "java".');
    expect((error as UsageError).hint).toBe("Choose one of: node, python, dockerfile (c8y-ms init --list-templates describes them).");
  }
});

test("a template.json that does not describe its template is reported as a broken template", async () => {
  const root = await mkdtemp(join(tmpdir(), "c8y-ms-catalog-"));
  try {
    await mkdir(join(root, "broken"));
    await writeFile(join(root, "broken", "template.json"), JSON.stringify({ id: "broken", title: "Broken" }));
    await expect(listTemplates(root)).rejects.toThrow(TemplateError);
    await expect(listTemplates(root)).rejects.toThrow(/description/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
