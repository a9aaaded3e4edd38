import * as z from "zod";
import { manifestSchema } from "./schema.js";

/** Where the published schema can be fetched once the package is on npm. */
export const SCHEMA_ID = "https://unpkg.com/c8y-ms/schemas/cumulocity.schema.json";

/**
 * The JSON Schema (draft 2020-12) of cumulocity.json, generated from the model for editors:
 * descriptions, enums, defaults, patterns and examples give completion and hover help.
 * `npm run schema` writes it to schemas/cumulocity.schema.json; a test keeps that file fresh.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  const { $schema, ...rest } = schema;
  return { $schema, $id: SCHEMA_ID, ...rest };
}

export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
