import { describe, expect, it } from "vitest";
import { VALID_MANIFEST } from "../../test/helpers/manifest.js";
import { checkManifestText } from "./check.js";

const check = (text: string, file = "cumulocity.yaml") => checkManifestText(text, file);
const where = (report: ReturnType<typeof check>) => [...report.errors, ...report.warnings].map((d) => [d.rule, d.pointer, d.line, d.column]);

describe("YAML manifests (cumulocity.yaml / .yml)", () => {
  const valid = [
    "# comments are allowed in YAML",
    'apiVersion: "2"',
    "name: my-service",
    'version: "1.0.0"',
    "provider:",
    "  name: Example Ltd.",
    "replicas: 2",
    "livenessProbe:",
    "  httpGet:",
    "    path: /health",
    "    port: 80",
    "",
  ].join("\n");

  it("reads a valid manifest into the same model as JSON", () => {
    const report = check(valid);
    expect(where(report)).toEqual([]);
    expect(report.manifest).toEqual(VALID_MANIFEST);
    expect(check(valid, "cumulocity.yml").manifest).toEqual(report.manifest);
  });

  it("points at values and keys like the JSON reader", () => {
    const text = valid.replace("name: my-service", "name: My_Service").replace("replicas: 2", "replicas: 2\nisolaton: PER_TENANT").replace("port: 80", "port: 0");
    expect(where(check(text))).toEqual([
      ["name-format", "/name", 3, 7],
      ["probe-port", "/livenessProbe/httpGet/port", 12, 11],
      ["unknown-field", "/isolaton", 8, 1],
    ]);
  });

  it("says to quote numbers YAML reads where the manifest wants strings, keeping what was written", () => {
    const report = check(valid.replace('apiVersion: "2"', "apiVersion: 2").replace('version: "1.0.0"', "version: 1.0"));
    expect(report.errors.map((d) => [d.rule, d.line, d.column, d.message])).toEqual([
      ["type", 2, 13, 'apiVersion must be a string, not the number 2: write "2" in quotes.'],
      ["type", 4, 10, 'version must be a string, not the number 1: write "1.0" in quotes.'],
    ]);
  });

  it("reports syntax errors with their position", () => {
    const report = check('apiVersion: "2"\nprovider: {name: x\nversion: "1.0.0"\n');
    expect(report.errors).toMatchObject([{ rule: "yaml-syntax", pointer: "", line: 3, column: 1 }]);
    expect(report.errors[0]?.message).toMatch(/^YAML syntax error: /);
    expect(report.errors[0]?.message).not.toMatch(/at line \d/);
  });

  it("rejects tabs used as indentation (a common YAML mistake)", () => {
    const report = check('apiVersion: "2"\nprovider:\n\tname: x\n');
    expect(report.errors).toMatchObject([{ rule: "yaml-syntax", line: 3, column: 1 }]);
  });

  it("rejects a second document", () => {
    const report = check(`${valid}---\nname: other\n`);
    expect(report.errors).toMatchObject([{ rule: "yaml-syntax", line: 12, column: 1, message: expect.stringContaining("one YAML document") }]);
  });

  it("resolves aliases, and stops a recursive one", () => {
    const aliased = check(`${valid}readinessProbe: *probe\n`.replace("livenessProbe:", "livenessProbe: &probe"));
    expect(aliased.errors).toEqual([]);
    expect(aliased.manifest?.readinessProbe).toEqual(aliased.manifest?.livenessProbe);
    const recursive = check("a: &x [*x]\n");
    expect(recursive.errors).toMatchObject([{ rule: "yaml-syntax", line: 1, column: 8, message: expect.stringContaining("recursive") }]);
  });

  it("warns about duplicate keys instead of failing, like JSON", () => {
    const report = check(`${valid}name: again\n`);
    expect(report.warnings).toMatchObject([{ rule: "duplicate-key", pointer: "/name", line: 12, column: 1, message: expect.stringContaining("first at line 3 column 1") }]);
    expect(report.manifest?.name).toBe("again");
  });

  it("handles an empty file, an empty document and a scalar document", () => {
    expect(check("").errors).toMatchObject([{ rule: "yaml-syntax", line: 1, column: 1 }]);
    expect(check("# only a comment\n").errors).toMatchObject([{ rule: "yaml-syntax" }]);
    expect(check("just text\n").errors).toMatchObject([{ rule: "type", pointer: "", message: expect.stringContaining("must be an object") }]);
  });

  it("points an empty value (`key:`) at the end of its key", () => {
    const report = check(valid.replace("name: my-service", "name:"));
    expect(where(report)).toEqual([["type", "/name", 3, 6]]);
  });
});
