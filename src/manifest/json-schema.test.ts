import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { CORPUS_DIR } from "../../test/helpers/paths.js";
import { checkManifestText } from "./check.js";
import { manifestJsonSchema, manifestJsonSchemaText } from "./json-schema.js";

const committed = readFileSync(new URL("../../schemas/cumulocity.schema.json", import.meta.url), "utf8");

describe("schemas/cumulocity.schema.json", () => {
  it("is what the model generates (run `npm run schema` after changing src/manifest/schema.ts)", () => {
    expect(committed).toBe(manifestJsonSchemaText());
  });

  it("is draft 2020-12 with the documented required fields, enums and defaults for editors (platform.md §1.1)", () => {
    const schema = manifestJsonSchema() as {
      $schema: string;
      required: string[];
      properties: Record<string, { enum?: string[]; default?: unknown; description?: string; pattern?: string }>;
    };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required.sort()).toEqual(["apiVersion", "provider", "version"]);
    expect(schema.properties.isolation?.enum).toEqual(["MULTI_TENANT", "PER_TENANT"]);
    expect(schema.properties.isolation?.default).toBe("MULTI_TENANT");
    expect(schema.properties.scale?.enum).toEqual(["AUTO", "NONE"]);
    expect(schema.properties.billingMode?.enum).toEqual(["RESOURCES", "SUBSCRIPTION"]);
    expect(schema.properties.name?.pattern).toBe("^[a-z0-9-]+$");
    for (const [field, property] of Object.entries(schema.properties)) expect(property.description, field).toBeTruthy();
  });

  it("describes probes with exactly one action and the documented defaults (platform.md §1.5)", () => {
    const probe = (manifestJsonSchema().properties as Record<string, Record<string, unknown>>).livenessProbe as {
      oneOf: unknown[];
      properties: Record<string, { default?: unknown; properties?: Record<string, { enum?: string[] }> }>;
    };
    expect(probe.oneOf).toEqual([{ required: ["exec"] }, { required: ["tcpSocket"] }, { required: ["httpGet"] }]);
    expect(probe.properties.periodSeconds?.default).toBe(10);
    expect(probe.properties.failureThreshold?.default).toBe(3);
    expect(probe.properties.httpGet?.properties?.scheme?.enum).toEqual(["HTTP", "HTTPS"]);
  });
});

describe("the schema agrees with c8y-ms validate", () => {
  // strictRequired is off: the probe's oneOf branches require properties declared beside them, which is valid.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  // VS Code's keyword for a readable pattern message; other editors ignore it.
  ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
  const validateSchema = ajv.compile(manifestJsonSchema());
  const manifests = readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith(".json"))
    .flatMap((name) => {
      const text = readFileSync(join(CORPUS_DIR, name), "utf8");
      const report = checkManifestText(text, name);
      return report.errors.some((d) => d.rule === "json-syntax") ? [] : [{ name, value: JSON.parse(text) as unknown, report }];
    });

  it("compiles as a strict draft 2020-12 schema", () => {
    expect(validateSchema).toBeTypeOf("function");
  });

  it("accepts every corpus manifest that validate passes without any warning, and rejects every one it finds errors in", () => {
    expect(manifests.length).toBeGreaterThan(50);
    for (const { name, value, report } of manifests) {
      const schemaValid = validateSchema(value);
      if (report.errors.length === 0 && report.warnings.length === 0) expect(schemaValid, `${name}: ${ajv.errorsText(validateSchema.errors)}`).toBe(true);
      if (report.errors.length > 0) expect(schemaValid, name).toBe(false);
    }
  });
});
