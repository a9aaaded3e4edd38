import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CORPUS_DIR } from "../../test/helpers/paths.js";
import { checkManifestText, type ManifestReport } from "./check.js";
import { RULES } from "./rules.js";

/**
 * Whatever the text — truncated, mutated, random — checking it returns a report: it never
 * throws, and every diagnostic points at a line and column that exist in the text.
 */
const jsonSeeds = readdirSync(CORPUS_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => readFileSync(join(CORPUS_DIR, name), "utf8"));
const yamlSeeds = jsonSeeds.flatMap((text) => {
  try {
    return [stringify(JSON.parse(text))];
  } catch {
    return []; // the two corpus files with syntax errors have no YAML twin
  }
});

function assertWellFormed(text: string, file: string, report: ManifestReport): void {
  const lines = text.split(/\r\n|\r|\n/);
  if (text.charCodeAt(0) === 0xfeff) lines[0] = (lines[0] ?? "").slice(1);
  expect(report.file).toBe(file);
  for (const d of [...report.errors, ...report.warnings]) {
    expect(d.file).toBe(file);
    expect(Object.keys(RULES)).toContain(d.rule);
    expect(d.severity).toBe(RULES[d.rule as keyof typeof RULES].severity);
    expect(d.line, JSON.stringify(d)).toBeGreaterThanOrEqual(1);
    expect(d.line, JSON.stringify(d)).toBeLessThanOrEqual(lines.length);
    expect(d.column, JSON.stringify(d)).toBeGreaterThanOrEqual(1);
    expect(d.column, JSON.stringify(d)).toBeLessThanOrEqual((lines[d.line - 1] ?? "").length + 1);
    expect(d.pointer === "" || d.pointer.startsWith("/")).toBe(true);
    expect(d.message.length).toBeGreaterThan(0);
  }
  for (const d of report.errors) expect(d.severity).toBe("error");
  for (const d of report.warnings) expect(d.severity).toBe("warning");
  if (report.errors.length === 0) expect(report.manifest).toBeDefined();
  else expect(report.manifest).toBeUndefined();
}

/** Characters that matter to JSON and YAML, plus some that matter to positions. */
const interesting = fc.constantFrom(..."{}[],:\"'\\ \t\n\r#-&*!|>?%@`0123456789.eE+aZ_/\u00e9\u{1F600}\uFEFF\u2028".split(""), "\r\n", "true", "null");

type Edit = (text: string) => string;
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.nat().map((at) => (t: string) => t.slice(0, at % (t.length + 1))),
  fc.nat().map((at) => (t: string) => t.slice(0, at % (t.length + 1)) + t.slice((at % (t.length + 1)) + 1)),
  fc.tuple(fc.nat(), interesting).map(([at, s]) => (t: string) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1))),
  fc.tuple(fc.nat(), interesting).map(([at, s]) => (t: string) => t.slice(0, at % (t.length + 1)) + s + t.slice((at % (t.length + 1)) + 1)),
  fc.tuple(fc.nat(), fc.nat(20)).map(([at, n]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i, i + n) + t.slice(i);
  }),
);

const mutated = (seeds: string[]) =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([seed, edits]) => edits.reduce((text, f) => f(text), seed));

/** A valid-looking manifest whose fields hold arbitrary JSON: exercises every rule with every type. */
const FIELDS = ["apiVersion", "name", "version", "provider", "resources", "requestedResources", "requestResources", "replicas", "settings"] as const;
const MORE_FIELDS = ["roles", "requiredRoles", "livenessProbe", "readinessProbe", "contextPath", "settingsCategory", "isolation", "extensions"] as const;
const wildManifest = fc
  .tuple(fc.constantFrom(...jsonSeeds), fc.array(fc.tuple(fc.constantFrom(...FIELDS, ...MORE_FIELDS), fc.jsonValue()), { maxLength: 4 }))
  .map(([seed, patches]) => {
    let base: Record<string, unknown> = {};
    try {
      base = JSON.parse(seed) as Record<string, unknown>;
    } catch {
      base = {};
    }
    for (const [key, value] of patches) base[key] = value;
    return JSON.stringify(base, null, 2);
  });

describe("checkManifestText never throws and always points inside the text (property)", () => {
  it("for mutated and truncated JSON manifests", () => {
    fc.assert(
      fc.property(mutated(jsonSeeds), (text) => assertWellFormed(text, "cumulocity.json", checkManifestText(text, "cumulocity.json"))),
      { numRuns: 1500 },
    );
  });

  it("for mutated and truncated YAML manifests", () => {
    fc.assert(
      fc.property(mutated(yamlSeeds), (text) => assertWellFormed(text, "cumulocity.yaml", checkManifestText(text, "cumulocity.yaml"))),
      { numRuns: 1000 },
    );
  });

  it("for manifests whose fields hold any JSON value", () => {
    fc.assert(
      fc.property(wildManifest, (text) => assertWellFormed(text, "cumulocity.json", checkManifestText(text, "cumulocity.json"))),
      { numRuns: 1000 },
    );
  });

  it("for arbitrary text and arbitrary JSON documents, as JSON and as YAML", () => {
    const anyText = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.json(), fc.array(interesting, { maxLength: 60 }).map((parts) => parts.join("")));
    fc.assert(
      fc.property(anyText, fc.constantFrom("cumulocity.json", "cumulocity.yml"), (text, file) => assertWellFormed(text, file, checkManifestText(text, file))),
      { numRuns: 1500 },
    );
  });

  it("accepts exactly what JSON.parse accepts", () => {
    fc.assert(
      fc.property(mutated(jsonSeeds.slice(0, 20)), (text) => {
        let parses = true;
        try {
          JSON.parse(text.replace(/^\uFEFF/, ""));
        } catch {
          parses = false;
        }
        const report = checkManifestText(text, "cumulocity.json");
        expect(report.errors.some((d) => d.rule === "json-syntax"), text).toBe(!parses);
      }),
      { numRuns: 1500 },
    );
  });
});
