#!/usr/bin/env node
// Writes schemas/cumulocity.schema.json from the manifest model (src/manifest/schema.ts).
// Run through `npm run schema`, which builds first; src/manifest/json-schema.test.ts fails when the file is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const { manifestJsonSchemaText } = await import("../dist/manifest/json-schema.js");
const target = fileURLToPath(new URL("../schemas/cumulocity.schema.json", import.meta.url));
writeFileSync(target, manifestJsonSchemaText());
console.log(`wrote ${target}`);
