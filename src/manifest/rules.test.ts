import { describe, expect, it } from "vitest";
import { checkManifestText } from "./check.js";
import { RULES } from "./rules.js";
import { LineIndex } from "./source.js";

/** A valid manifest with `patch` merged in (undefined removes a field), written as people write it. */
function manifest(patch: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    apiVersion: "2",
    name: "my-service",
    version: "1.0.0",
    provider: { name: "Example Ltd." },
    isolation: "MULTI_TENANT",
    replicas: 2,
    resources: { cpu: "500m", memory: "512M" },
    livenessProbe: { httpGet: { path: "/health", port: 80 }, initialDelaySeconds: 30 },
  };
  const merged: Record<string, unknown> = { ...base, ...patch };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return JSON.stringify(merged, null, 2);
}

interface Row {
  rule: string;
  /** The manifest text. */
  text: string;
  pointer: string;
  /** The diagnostic must sit at the first occurrence of this text (1-based line and column). */
  at: string;
  /** Words the message must contain: what is wrong and what to write instead. */
  says: string[];
  file?: string;
}

const rows: Row[] = [
  // Syntax (RFC 8259, YAML 1.2)
  { rule: "json-syntax", text: '{\n  "apiVersion": "2",\n}', pointer: "", at: "}", says: ["Trailing comma", "line 2 column 20"] },
  { rule: "yaml-syntax", text: "apiVersion: '2'\nprovider: [a, b\nversion: 1", pointer: "", at: "version", says: ["YAML syntax error"], file: "cumulocity.yaml" },
  { rule: "duplicate-key", text: manifest().replace('"name": "my-service"', '"name": "a",\n  "name": "my-service"'), pointer: "/name", at: '"name": "my-service"', says: ["first at line 3 column 3"] },
  // The model: types, required fields, enums, fields (platform.md §1.1–1.5)
  { rule: "type", text: manifest({ replicas: "2" }), pointer: "/replicas", at: '"2",\n  "resources"', says: ["must be a number", "write 2 without quotes"] },
  { rule: "required", text: manifest({ version: undefined }), pointer: "/version", at: "{", says: ['Missing required field "version"', '"version": "1.0.0"'] },
  { rule: "required", text: manifest({ provider: {} }), pointer: "/provider/name", at: '"provider"', says: ['"name" in provider'] },
  { rule: "enum-value", text: manifest({ isolation: "SINGLE" }), pointer: "/isolation", at: '"SINGLE"', says: ['"MULTI_TENANT" or "PER_TENANT"'] },
  { rule: "empty-value", text: manifest({ provider: { name: "" } }), pointer: "/provider/name", at: '""', says: ["provider.name is empty"] },
  { rule: "unknown-field", text: manifest({ isolaton: "PER_TENANT" }), pointer: "/isolaton", at: '"isolaton"', says: ['did you mean "isolation"?'] },
  {
    rule: "misplaced-field",
    text: manifest({ readinessProbe: { httpGet: { path: "/health" }, resources: { cpu: "1" } } }),
    pointer: "/readinessProbe/resources",
    at: '"resources": {\n      "cpu": "1"',
    says: ["does not belong in readinessProbe", "at the top level"],
  },
  { rule: "field-alias", text: manifest({ requestResources: { cpu: "100m" } }), pointer: "/requestResources", at: '"requestResources"', says: ['"requestedResources"'] },
  // Identity (platform.md §1.1, §1.6, §1.7)
  { rule: "api-version-removed", text: manifest({ apiVersion: "1" }), pointer: "/apiVersion", at: '"1"', says: ['Use "2"', "removed from the platform"] },
  { rule: "api-version-format", text: manifest({ apiVersion: "2.0" }), pointer: "/apiVersion", at: '"2.0"', says: ['write "2"'] },
  { rule: "name-format", text: manifest({ name: "billing_microservice" }), pointer: "/name", at: '"billing_microservice"', says: ['write "billing-microservice"'] },
  { rule: "name-length", text: manifest({ name: "cumulocity-epl-provision" }), pointer: "/name", at: '"cumulocity-epl-provision"', says: ["24 characters", "at most 23"] },
  { rule: "name-dashes", text: manifest({ name: "-svc-" }), pointer: "/name", at: '"-svc-"', says: ['write "svc"'] },
  { rule: "version-semver", text: manifest({ version: "1.0.0+build.5" }), pointer: "/version", at: '"1.0.0+build.5"', says: ['write "1.0.0"', "build metadata"] },
  { rule: "context-path-format", text: manifest({ contextPath: "my service" }), pointer: "/contextPath", at: '"my service"', says: ["a space", 'write "my-service"'] },
  { rule: "settings-category-format", text: manifest({ settingsCategory: "my-ms" }), pointer: "/settingsCategory", at: '"my-ms"', says: ['write "myms"'] },
  { rule: "replicas-range", text: manifest({ replicas: 6 }), pointer: "/replicas", at: "6", says: ["1 to 5", "write 5"] },
  { rule: "replicas-production", text: manifest({ replicas: 1 }), pointer: "/replicas", at: "1,", says: ["at least 2"] },
  // Resources (platform.md §1.3)
  { rule: "cpu-format", text: manifest({ resources: { cpu: "500M" } }), pointer: "/resources/cpu", at: '"500M"', says: ['write "500m"'] },
  { rule: "cpu-minimum", text: manifest({ resources: { cpu: "50m" } }), pointer: "/resources/cpu", at: '"50m"', says: ["100m"] },
  { rule: "memory-format", text: manifest({ resources: { memory: "1.5G" } }), pointer: "/resources/memory", at: '"1.5G"', says: ['write "1500M"'] },
  { rule: "memory-minimum", text: manifest({ resources: { memory: "5M" } }), pointer: "/resources/memory", at: '"5M"', says: ["10M"] },
  {
    rule: "requested-above-limit",
    text: manifest({ resources: { cpu: "250m", memory: "128M" }, requestedResources: { cpu: "100m", memory: "128Mi" } }),
    pointer: "/requestedResources/memory",
    at: '"128Mi"',
    says: ['"128M" or less'],
  },
  { rule: "requested-above-cap", text: manifest({ resources: { cpu: "2", memory: "1G" }, requestedResources: { cpu: "1" } }), pointer: "/requestedResources/cpu", at: '"1"', says: ["250m"] },
  // Probes (platform.md §1.5)
  { rule: "probe-action", text: manifest({ livenessProbe: { periodSeconds: 10 } }), pointer: "/livenessProbe", at: '{\n    "periodSeconds"', says: ["has no action"] },
  {
    rule: "probe-action",
    text: manifest({ livenessProbe: { httpGet: { path: "/health" }, tcpSocket: { port: 80 } } }),
    pointer: "/livenessProbe/httpGet",
    at: '"httpGet"',
    says: ["exactly one"],
  },
  { rule: "probe-port", text: manifest({ livenessProbe: { tcpSocket: { port: 70000 } } }), pointer: "/livenessProbe/tcpSocket/port", at: "70000", says: ["1 to 65535"] },
  { rule: "probe-whitespace", text: manifest({ livenessProbe: { httpGet: { path: "/health " } } }), pointer: "/livenessProbe/httpGet/path", at: '"/health "', says: ["whitespace"] },
  { rule: "probe-whitespace", text: manifest({ livenessProbe: { exec: { command: ["sh", "-c\n"] } } }), pointer: "/livenessProbe/exec/command/1", at: '"-c\\n"', says: ["a line feed"] },
  { rule: "probe-threshold", text: manifest({ livenessProbe: { httpGet: { path: "/h" }, failureThreshold: 0 } }), pointer: "/livenessProbe/failureThreshold", at: "0\n", says: ["at least 1: write 1."] },
  { rule: "probe-threshold", text: manifest({ readinessProbe: { httpGet: { path: "/h" }, initialDelaySeconds: -1 } }), pointer: "/readinessProbe/initialDelaySeconds", at: "-1\n", says: ["at least 0: write 0."] },
  { rule: "probe-command", text: manifest({ livenessProbe: { exec: { command: [] } } }), pointer: "/livenessProbe/exec/command", at: "[]", says: ["is empty"] },
  { rule: "probe-path", text: manifest({ livenessProbe: { httpGet: { path: "health" } } }), pointer: "/livenessProbe/httpGet/path", at: '"health"', says: ['write "/health"'] },
  { rule: "probe-liveness-success", text: manifest({ livenessProbe: { httpGet: { path: "/h" }, successThreshold: 2 } }), pointer: "/livenessProbe/successThreshold", at: "2\n", says: ["only 1"] },
  // Settings and roles (platform.md §1.1, §1.4)
  {
    rule: "setting-key-unique",
    text: manifest({ settings: [{ key: "tracker", defaultValue: "1" }, { key: "tracker", defaultValue: "2" }] }),
    pointer: "/settings/1/key",
    at: '"tracker",\n      "defaultValue": "2"',
    says: ["already defined in settings[0]"],
  },
  { rule: "role-format", text: manifest({ requiredRoles: ["ROLE_INVENTORY READ"] }), pointer: "/requiredRoles/0", at: '"ROLE_INVENTORY READ"', says: ['write "ROLE_INVENTORY_READ"'] },
  { rule: "role-format", text: manifest({ requiredRoles: ["role inventory"] }), pointer: "/requiredRoles/0", at: '"role inventory"', says: ['write "ROLE_INVENTORY"'] },
  { rule: "role-name", text: manifest({ requiredRoles: ["inventory_read"] }), pointer: "/requiredRoles/0", at: '"inventory_read"', says: ['did you mean "ROLE_INVENTORY_READ"?'] },
  { rule: "role-name", text: manifest({ roles: ["ROLE_MY_SERVICE_UPDATE"] }), pointer: "/roles/0", at: '"ROLE_MY_SERVICE_UPDATE"', says: ["will not appear in the UI"] },
  { rule: "role-duplicate", text: manifest({ roles: ["ROLE_A_READ", "ROLE_A_READ"] }), pointer: "/roles/1", at: '"ROLE_A_READ"\n', says: ["already listed in roles[0]"] },
];

function positionOf(text: string, fragment: string): { line: number; column: number } {
  const offset = text.indexOf(fragment);
  if (offset < 0) throw new Error(`fixture error: ${JSON.stringify(fragment)} is not in the text`);
  return new LineIndex(text).position(offset);
}

describe("manifest rules: each reports its id at the exact place", () => {
  it.each(rows.map((row) => [`${row.rule} ${row.pointer || "(root)"}`, row] as const))("%s", (_name, row) => {
    const report = checkManifestText(row.text, row.file ?? "cumulocity.json");
    const found = [...report.errors, ...report.warnings].filter((d) => d.rule === row.rule);
    expect(found, JSON.stringify([...report.errors, ...report.warnings], null, 2)).toHaveLength(1);
    const [diagnostic] = found;
    expect(diagnostic).toMatchObject({ file: row.file ?? "cumulocity.json", pointer: row.pointer, severity: RULES[row.rule as keyof typeof RULES].severity });
    expect({ line: diagnostic?.line, column: diagnostic?.column }).toEqual(positionOf(row.text, row.at));
    for (const words of row.says) expect(diagnostic?.message).toContain(words);
    // Each bad input breaks one rule: the other diagnostics are only the ones the base manifest would not give.
    expect([...report.errors, ...report.warnings].filter((d) => d.rule !== row.rule && d.rule !== "replicas-production")).toEqual([]);
  });

  it("covers every rule of the table (multiple-manifests is a directory check, tested in load.test.ts; manifest-size in hostile.test.ts)", () => {
    const covered = new Set(rows.map((row) => row.rule));
    const missing = Object.keys(RULES).filter((rule) => !covered.has(rule) && rule !== "multiple-manifests" && rule !== "manifest-size");
    expect(missing).toEqual([]);
  });

  it("passes the documentation's example manifest with no diagnostics (platform.md §1.8)", () => {
    const example = {
      apiVersion: "v2",
      name: "my-microservice",
      version: "1.0.0",
      provider: { name: "New Company Ltd.", domain: "https://new-company.com", support: "support@new-company.com" },
      isolation: "MULTI_TENANT",
      scale: "AUTO",
      replicas: 2,
      resources: { cpu: "1", memory: "1G" },
      requestedResources: { cpu: "100m", memory: "128Mi" },
      requiredRoles: ["ROLE_ALARM_READ"],
      livenessProbe: { httpGet: { path: "/health" }, initialDelaySeconds: 60, periodSeconds: 10 },
      readinessProbe: { httpGet: { path: "/health", port: 80 }, initialDelaySeconds: 20, periodSeconds: 10 },
      settingsCategory: "myms",
      settings: [{ key: "tracker-id", defaultValue: "1234" }],
    };
    const report = checkManifestText(JSON.stringify(example, null, 2), "cumulocity.json");
    expect([...report.errors, ...report.warnings]).toEqual([]);
    expect(report.manifest).toEqual(example);
  });

  it("accepts the undocumented fields the platform and its tools use, without warnings (platform.md §1.1)", () => {
    const text = manifest({
      $schema: "./node_modules/c8y-ms/schemas/cumulocity.schema.json",
      buildSpec: { targetBuildArchitectures: ["linux/amd64"] },
      dockerBuildInfo: { imageArch: "amd64", buildDate: "2024-01-01T00:00:00Z" },
      settings: [{ key: "enabled", defaultValue: "true", editable: true, valueSchema: { type: "boolean" } }],
      extensions: [{ type: "anything", custom: 1 }],
      expose: "x",
      price: "1",
    });
    const report = checkManifestText(text, "cumulocity.json");
    expect([...report.errors, ...report.warnings]).toEqual([]);
  });

  it.each([
    ["1.0.0-SNAPSHOT", true],
    ["0.0.0", true],
    ["2.10.3-rc.1", true],
    ["1.0", false],
    ["01.0.0", false],
    ["1.0.0+sha.5", false],
    ["v1.0.0", false],
    ["@project.version@", false],
    ["{VERSION}-SNAPSHOT", false],
  ])("version %s is valid: %s (platform.md §1.7)", (version, valid) => {
    const report = checkManifestText(manifest({ version }), "cumulocity.json");
    expect(report.errors.map((d) => d.rule)).toEqual(valid ? [] : ["version-semver"]);
  });

  it.each([
    ["0.5", "512M", true],
    ["500m", "1Gi", true],
    ["16", "16G", true],
    ["0.1", "10M", true],
    ["1000m", "178Mi", true],
    ["0.05", "512M", false],
    ["1.", "512M", false],
    ["500", "512m", false],
    ["1", "1.5Gi", false],
    ["1", "512 MB", false],
    ["1", "9999999", false],
  ])("cpu %s and memory %s are valid limits: %s (platform.md §1.3)", (cpu, memory, valid) => {
    const report = checkManifestText(manifest({ resources: { cpu, memory } }), "cumulocity.json");
    expect(report.errors.length === 0).toBe(valid);
  });

  it("names leftover build placeholders and how they get filled (corpus: @project.version@, {VERSION}, {ISOLATION})", () => {
    const report = checkManifestText(manifest({ version: "@project.version@", isolation: "{ISOLATION}", resources: { cpu: "@resources.cpu@" } }), "cumulocity.json");
    const messages = Object.fromEntries(report.errors.map((d) => [d.pointer, d.message]));
    expect(messages["/version"]).toContain("Maven resource-filtering placeholder");
    expect(messages["/isolation"]).toContain("template placeholder that your build script did not replace");
    expect(messages["/resources/cpu"]).toContain("@resources.cpu@");
  });

  it("points a missing field at the key of its parent object, and a missing root field at the opening brace", () => {
    const text = '\n\n  {\n  "apiVersion": "2", "version": "1.0.0",\n  "provider": {\n    "domain": "x"\n  }\n}';
    const report = checkManifestText(text, "cumulocity.json");
    expect(report.errors.map((d) => [d.pointer, d.line, d.column])).toEqual([["/provider/name", 5, 3]]);
    const empty = checkManifestText("  {}", "cumulocity.json");
    expect(empty.errors.map((d) => [d.pointer, d.line, d.column])).toEqual([
      ["/apiVersion", 1, 3],
      ["/provider", 1, 3],
      ["/version", 1, 3],
    ]);
  });

  it("reports a non-object document as a type error at its start", () => {
    const report = checkManifestText('\n["apiVersion"]', "cumulocity.json");
    expect(report.errors).toMatchObject([{ rule: "type", line: 2, column: 1, pointer: "", message: expect.stringContaining("The manifest must be an object") }]);
  });
});

describe("messages of the model's checks say what to write", () => {
  const messageAt = (patch: Record<string, unknown>, pointer: string) => {
    const report = checkManifestText(manifest(patch), "cumulocity.json");
    return [...report.errors, ...report.warnings].find((d) => d.pointer === pointer)?.message;
  };

  it.each([
    [{ version: null }, "/version", "version must be a string, not null: write a value."],
    [{ name: null }, "/name", "name must be a string, not null; remove the field to use the default."],
    [{ provider: "c8y" }, "/provider", 'provider must be an object, not the string "c8y": write {"name": "c8y"}.'],
    [{ requiredRoles: "ROLE_ALARM_READ" }, "/requiredRoles", 'requiredRoles must be an array, not the string "ROLE_ALARM_READ": write ["ROLE_ALARM_READ"].'],
    [{ replicas: 2.5 }, "/replicas", "replicas must be a whole number, not 2.5: write 3."],
    [{ scale: "auto" }, "/scale", 'scale "auto" is not allowed: did you mean "AUTO"?'],
    [{ cpu: "1" }, "/cpu", '"cpu" does not belong at the top level: it goes in resources or in requestedResources; move it there (the platform ignores it here).'],
    [{ key: "my-key" }, "/key", 'Unknown field "key": it is a property of the application (set when the application is created), not a manifest field: remove it.'],
    [{ billing: {} }, "/billing", 'Unknown field "billing": the platform does not document it and ignores what it does not know; check the spelling or remove it.'],
    [{ livenessProbe: { path: "/health" } }, "/livenessProbe/path", '"path" does not belong in livenessProbe: it goes in livenessProbe.httpGet; move it there (the platform ignores it here).'],
  ])("%j at %s", (patch, pointer, message) => {
    expect(messageAt(patch, pointer)).toBe(message);
  });
});
