import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkManifestText } from "../src/manifest/load.js";
import { readJson } from "../src/manifest/read-json.js";
import { LineIndex } from "../src/manifest/source.js";
import { CORPUS_DIR } from "./helpers/paths.js";

/**
 * Every real-world manifest of test/fixtures/corpus (sources in its SOURCES.tsv), validated as it is (never edited).
 * Each row: the errors and warnings we report, as "rule pointer", and why (SOURCES.tsv notes).
 * EXPECTED.tsv is the corpus oracle for errors; it is checked separately below.
 */
interface Expectation {
  errors: string[];
  warnings: string[];
  why: string;
  /** For JSON syntax errors: where the parser stops, as Python's json reports it (EXPECTED.tsv). */
  at?: [line: number, column: number];
}

const APIV1 = "api-version-removed /apiVersion";
const MAVEN_VERSION = "version-semver /version";
const TEMPLATE = "Maven @project.version@ placeholder";

const EXPECTATIONS: Record<string, Expectation> = {
  "001": { errors: [MAVEN_VERSION], warnings: ["role-name /roles/2"], why: `${TEMPLATE}; custom role ROLE_ADAMOS_HUB_UPDATE is not a UI role; tabs mixed with spaces` },
  "002": { errors: [MAVEN_VERSION, "cpu-format /resources/cpu", "memory-format /resources/memory"], warnings: [], why: "@resources.cpu@ / @resources.memory@ placeholders as well" },
  "003": { errors: [MAVEN_VERSION], warnings: [], why: `${TEMPLATE}; buildSpec is a known Maven-plugin field` },
  "004": { errors: [MAVEN_VERSION], warnings: [], why: `${TEMPLATE}; 16 cores / 16G are valid` },
  "005": { errors: [MAVEN_VERSION], warnings: [], why: `${TEMPLATE}; memory-only resources` },
  "006": { errors: [MAVEN_VERSION], warnings: [], why: `${TEMPLATE}; a JSON-array string as defaultValue is a string` },
  "007": { errors: ["required /apiVersion", "required /provider", "required /version"], warnings: [], why: "a partial overlay (resources only), not a full manifest" },
  "008": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "apiVersion 1 in a template repository" },
  "009": { errors: [MAVEN_VERSION], warnings: [], why: `${TEMPLATE}; odd spacing before ']'` },
  "010": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "apiVersion 1; settings with valueSchema (known)" },
  "011": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "official Java hello-world" },
  "012": { errors: [APIV1, MAVEN_VERSION], warnings: ["unknown-field /billing"], why: "undocumented top-level billing object" },
  "013": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "placeholder default values are still strings" },
  "014": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "1000m / 1Gi are valid" },
  "015": { errors: [MAVEN_VERSION], warnings: [], why: "contextPath differs from name; unusual key order" },
  "016": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "minimal manifest" },
  "017": { errors: [MAVEN_VERSION], warnings: ["unknown-field /c8y_ImpactDecoder"], why: "undocumented c8y_ImpactDecoder fragment" },
  "018": { errors: [APIV1, "name-length /name", MAVEN_VERSION], warnings: [], why: "CRLF; 24-character name" },
  "019": { errors: [APIV1, "name-length /name", MAVEN_VERSION], warnings: ["misplaced-field /readinessProbe/resources"], why: "resources nested inside readinessProbe" },
  "020": { errors: [MAVEN_VERSION], warnings: [], why: "CRLF, no final newline" },
  "021": { errors: [APIV1, MAVEN_VERSION], warnings: ["unknown-field /isDecoder"], why: "isDecoder fragment" },
  "022": { errors: [APIV1, MAVEN_VERSION], warnings: [], why: "contextPath without name" },
  "023": { errors: [APIV1, "version-semver /version"], warnings: [], why: "2-component version 1.0-SNAPSHOT" },
  "024": { errors: [APIV1], warnings: [], why: "apiVersion v1 on the documentation's sample" },
  "025": { errors: [MAVEN_VERSION], warnings: ["unknown-field /isDecoder"], why: "isDecoder fragment" },
  "026": { errors: [APIV1, "name-length /name"], warnings: [], why: "philips-hue-microservice has 24 characters" },
  "027": { errors: [], warnings: [], why: "official Python hello-world" },
  "028": { errors: [APIV1], warnings: ["replicas-production /replicas"], why: "apiVersion v1, replicas 1" },
  "029": { errors: [APIV1, "enum-value /isolation"], warnings: ["replicas-production /replicas"], why: "isolation SINGLE" },
  "030": { errors: [], warnings: [], why: "500M is decimal-unit memory, valid" },
  "031": { errors: ["version-semver /version", "enum-value /isolation"], warnings: [], why: "{VERSION} and {ISOLATION} placeholders" },
  "032": { errors: [APIV1], warnings: [], why: "2018 prototype" },
  "033": { errors: [], warnings: [], why: "apiVersion v2" },
  "034": {
    errors: [],
    warnings: ["replicas-production /replicas", "requested-above-limit /requestedResources/memory"],
    why: "request 128Mi is above the limit 128M (a warning: EXPECTED.tsv counts the file valid)",
  },
  "035": { errors: ["version-semver /version"], warnings: [], why: "{VERSION}-SNAPSHOT placeholder" },
  "036": { errors: ["required /apiVersion", "required /provider", "required /version"], warnings: [], why: "a fragment: isolation and requiredRoles only" },
  "037": { errors: [APIV1], warnings: [], why: "resources after probes, tab-indented" },
  "038": { errors: [APIV1], warnings: ["unknown-field /type", "unknown-field /key"], why: "application fields type and key in the manifest" },
  "039": { errors: ["json-syntax "], warnings: [], at: [37, 1], why: "trailing comma after requiredRoles" },
  "040": { errors: [APIV1], warnings: [], why: "apiVersion v1" },
  "041": { errors: [], warnings: [], why: "Node-RED, apiVersion v2" },
  "042": { errors: [], warnings: ["unknown-field /description", "unknown-field /type"], why: "application fields description and type" },
  "043": { errors: [], warnings: ["requested-above-cap /requestedResources/memory"], why: "a 10G request under a 128G limit" },
  "044": {
    errors: [],
    warnings: ["unknown-field /key", "unknown-field /type", "unknown-field /description", "unknown-field /exposeMcpServers"],
    why: "application fields and the new exposeMcpServers",
  },
  "045": {
    errors: [],
    warnings: ["unknown-field /key", "unknown-field /type", "unknown-field /description", "unknown-field /exposeMcpServer"],
    why: "the older singular exposeMcpServer",
  },
  "046": { errors: [], warnings: ["replicas-production /replicas", "unknown-field /key", "unknown-field /openApiSpec", "unknown-field /exposeMcpServers"], why: "openApiSpec, key" },
  "047": { errors: [APIV1], warnings: [], why: "official Node.js example" },
  "048": { errors: [APIV1], warnings: [], why: "scale before isolation" },
  "049": { errors: ["version-semver /version"], warnings: [], why: "2-component 0.28-SNAPSHOT" },
  "050": { errors: [], warnings: ["replicas-production /replicas"], why: "indented by two extra spaces" },
  "051": { errors: [], warnings: ["replicas-production /replicas", "requested-above-cap /requestedResources/cpu"], why: "request equal to the limit, above the usual cap" },
  "052": { errors: [APIV1, "version-semver /version"], warnings: [], why: "version 0.1; spaces before colons" },
  "053": { errors: [], warnings: ["replicas-production /replicas"], why: "a role in both requiredRoles and roles is fine" },
  "054": { errors: [], warnings: ["replicas-production /replicas"], why: "go-c8y example" },
  "055": { errors: ["required /provider", APIV1], warnings: [], why: "test fixture without provider" },
  "056": { errors: [APIV1, "name-format /name"], warnings: [], why: "underscore in name" },
  "057": { errors: [APIV1, "name-format /name"], warnings: [], why: "uppercase and space in name" },
  "058": { errors: [], warnings: ["replicas-production /replicas"], why: "memory before cpu" },
  "059": { errors: [APIV1], warnings: [], why: "C# sample" },
  "060": { errors: ["json-syntax "], warnings: [], at: [4, 3], why: 'missing comma after "version"' },
};

const files = readdirSync(CORPUS_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort();

const check = (name: string) => {
  const text = readFileSync(join(CORPUS_DIR, name), "utf8");
  return { text, report: checkManifestText(text, name) };
};

describe("the real-world manifest corpus, validated as it is", () => {
  it("has an expectation for every file", () => {
    expect(files.map((name) => name.slice(0, 3))).toEqual(Object.keys(EXPECTATIONS));
  });

  it.each(files.map((name) => [name, EXPECTATIONS[name.slice(0, 3)] as Expectation] as const))("%s", (name, expected) => {
    const { text, report } = check(name);
    const tag = (d: { rule: string; pointer: string }) => `${d.rule} ${d.pointer}`;
    expect(report.errors.map(tag), expected.why).toEqual(expected.errors);
    expect(report.warnings.map(tag), expected.why).toEqual(expected.warnings);
    expect(report.manifest === undefined).toBe(expected.errors.length > 0);
    if (expected.at) expect([report.errors[0]?.line, report.errors[0]?.column]).toEqual(expected.at);
    // Every diagnostic points at what it names: the value as written, or the key of a field.
    const read = readJson(text);
    if (!read.ok) return;
    const lines = new LineIndex(text);
    for (const d of [...report.errors, ...report.warnings]) {
      const location = read.document.locations.get(d.pointer);
      if (!location) continue; // a missing field points at its parent
      const at = [location.value, location.key].filter((span) => span !== undefined).map((span) => lines.position(span.start));
      expect(at, `${tag(d)} at ${d.line}:${d.column}`).toContainEqual({ line: d.line, column: d.column });
    }
  });

  it("agrees with the verdicts and problems of EXPECTED.tsv", () => {
    const rows = readFileSync(join(CORPUS_DIR, "EXPECTED.tsv"), "utf8").trim().split("\n").slice(1);
    expect(rows).toHaveLength(files.length);
    for (const row of rows) {
      const [name = "", verdict, problems = ""] = row.split("\t");
      const { report } = check(name);
      expect(report.errors.length === 0 ? "valid" : "invalid", name).toBe(verdict);
      if (verdict === "valid") continue;
      for (const problem of problems.split("; ")) {
        const syntax = /^JSON syntax error at line (\d+) column (\d+)$/.exec(problem);
        if (syntax) {
          expect(report.errors, `${name}: ${problem}`).toMatchObject([{ rule: "json-syntax", line: Number(syntax[1]), column: Number(syntax[2]) }]);
          continue;
        }
        // "/provider/name missing" is reported once, where the whole /provider object is missing.
        const pointer = problem.split(" ")[0] ?? "";
        const found = report.errors.some((d) => d.pointer === pointer || (problem.endsWith("missing") && pointer.startsWith(`${d.pointer}/`)));
        expect(found, `${name}: ${problem} in ${JSON.stringify(report.errors.map((d) => d.pointer))}`).toBe(true);
      }
    }
  });

  it("explains the corpus's typical mistakes with the fix, not only the rule", () => {
    const messages = (name: string) => check(name).report.errors.map((d) => d.message);
    expect(messages("001-Cumulocity-IoT-c8y-adamos-hub-connector.json")[0]).toContain("Maven resource-filtering placeholder");
    expect(messages("029-SoftwareAG-c8y-python-source-transformer-microservice.json")).toContainEqual(expect.stringContaining('"MULTI_TENANT" or "PER_TENANT"'));
    expect(messages("056-scfx-billing_microservice.json")).toContainEqual(expect.stringContaining('write "billing-microservice"'));
    expect(messages("057-scfx-goneric-mqtt.json")).toContainEqual(expect.stringContaining('write "goneric-mqtt"'));
    expect(messages("049-SoftwareAG-cumulocity-lora.json")).toEqual([expect.stringContaining('write "0.28.0-SNAPSHOT"')]);
    expect(messages("039-tejbabu91-media-server.json")).toEqual(["Trailing comma before '}': remove the ',' at line 36 column 4."]);
    expect(messages("060-SoftwareAG-cumulocity-clients-cs.json")).toEqual([
      "Expected ',' or '}' but found '\"provider\"': add a comma after the value that ends at line 3 column 21.",
    ]);
  });
});
