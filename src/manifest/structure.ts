import * as z from "zod";
import { closestMatch, describeValue, orList, placeholderMessage, show } from "./hints.js";
import { objectOf, type Report } from "./rules.js";
import { isClosedObject, manifestSchema } from "./schema.js";
import { pointerOf } from "./source.js";

/**
 * The checks that come straight from the model: types, required fields, enum values and
 * which fields exist where. Everything the zod schema knows is reported here, with messages
 * that say what to write instead.
 */
export function checkStructure(value: unknown, report: Report, sourceOf: (pointer: string) => string | undefined): void {
  const result = manifestSchema.safeParse(value, { reportInput: true });
  if (!result.success) for (const issue of result.error.issues) reportIssue(issue, value, report, sourceOf);
  checkFields(value, manifestSchema, [], report);
}

function reportIssue(issue: z.core.$ZodIssue, root: unknown, report: Report, sourceOf: (pointer: string) => string | undefined): void {
  const pointer = pointerOf(issue.path as (string | number)[]);
  const field = fieldLabel(issue.path);
  const input = "input" in issue ? issue.input : undefined;
  if (issue.code === "invalid_value") {
    const allowed = issue.values.map((v) => String(v));
    const choices = orList(allowed.map((v) => `"${v}"`));
    const placeholder = typeof input === "string" ? placeholderMessage(field, input, choices) : undefined;
    const near = typeof input === "string" ? closestMatch(input, allowed) : undefined;
    report("enum-value", pointer, placeholder ?? `${field} ${show(input)} is not allowed: ${near ? `did you mean "${near}"?` : `use ${choices}.`}`);
    return;
  }
  if (issue.code === "invalid_type") {
    if (input === undefined && lookup(root, issue.path.slice(0, -1)) !== undefined) {
      report("required", pointer, `Missing required field "${String(issue.path.at(-1))}"${issue.path.length > 1 ? ` in ${fieldLabel(issue.path.slice(0, -1))}` : ""}: add ${requiredExample(issue.path)}.`);
      return;
    }
    report("type", pointer, typeMessage(field, issue.expected, input, pointer, sourceOf(pointer)));
    return;
  }
  report("type", pointer, `${field}: ${issue.message}`);
}

/** `source` is the value as written: YAML's `version: 1.0` reads as the number 1, but the fix is "1.0". */
function typeMessage(field: string, expected: string, input: unknown, pointer: string, source: string | undefined): string {
  if (expected === "int" && typeof input === "number") return `${field} must be a whole number, not ${show(input)}: write ${Math.round(input)}.`;
  const want = expected === "int" || expected === "number" ? "a number" : expected === "array" ? "an array" : expected === "object" ? "an object" : `a ${expected}`;
  let fix = "";
  if (expected === "string" && (typeof input === "number" || typeof input === "boolean")) fix = `: write "${source?.trim() || String(input)}" in quotes`;
  else if ((expected === "int" || expected === "number") && typeof input === "string" && /^\d+$/.test(input)) fix = `: write ${input} without quotes`;
  else if (pointer === "/provider" && typeof input === "string") fix = `: write {"name": ${show(input)}}`;
  else if (expected === "array" && typeof input === "string") fix = `: write [${show(input)}]`;
  else if (input === null) fix = schemaAt(pointerPath(pointer)) instanceof z.ZodOptional ? "; remove the field to use the default" : ": write a value";
  const subject = pointer === "" ? "The manifest" : field;
  return `${subject} must be ${want}, not ${describeValue(input)}${fix}.`;
}

/** `"version": "1.0.0"` for a missing field: the schema's example, or the shape of its type. */
function requiredExample(path: readonly PropertyKey[]): string {
  const schema = schemaAt(path);
  return `"${String(path.at(-1))}": ${schema ? exampleOf(schema) : "..."}`;
}

function exampleOf(schema: z.ZodType): string {
  const examples = z.globalRegistry.get(schema)?.examples;
  if (Array.isArray(examples) && examples.length > 0) return JSON.stringify(examples[0]);
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    const required = Object.entries(inner.shape as Record<string, z.ZodType>).filter(([, s]) => !(s instanceof z.ZodOptional));
    return `{${required.map(([key, s]) => `"${key}": ${exampleOf(s)}`).join(", ")}}`;
  }
  if (inner instanceof z.ZodArray) return "[...]";
  if (inner instanceof z.ZodString) return '"..."';
  return "...";
}

/**
 * Unknown members of closed objects: a known field at another level is "misplaced" (resources
 * inside a probe), a near miss gets "did you mean", the rest is reported as unknown.
 */
function checkFields(value: unknown, schema: z.ZodType, path: (string | number)[], report: Report): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    value.forEach((item, index) => checkFields(item, inner.element as z.ZodType, [...path, index], report));
    return;
  }
  const object = objectOf(value);
  if (!(inner instanceof z.ZodObject) || !object) return;
  const shape = inner.shape as Record<string, z.ZodType>;
  for (const [key, member] of Object.entries(object)) {
    const memberSchema = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (memberSchema) {
      checkFields(member, memberSchema, [...path, key], report);
      continue;
    }
    if (!isClosedObject(schema) && !isClosedObject(inner)) continue;
    reportUnknown(key, Object.keys(shape), [...path, key], report);
  }
}

/** Fields of the application resource that people copy into the manifest (corpus: type, key, description). */
const APPLICATION_FIELDS = new Set(["type", "key", "description", "availability", "owner", "manifest", "id", "self", "activeVersionId"]);

function reportUnknown(key: string, siblings: string[], path: (string | number)[], report: Report): void {
  const pointer = pointerOf(path);
  const where = path.length > 1 ? ` in ${fieldLabel(path.slice(0, -1))}` : "";
  const near = closestMatch(key, siblings);
  if (near) {
    report("unknown-field", pointer, `Unknown field "${key}"${where}: did you mean "${near}"?`, "key");
    return;
  }
  if (path.length === 1 && APPLICATION_FIELDS.has(key)) {
    report("unknown-field", pointer, `Unknown field "${key}": it is a property of the application (set when the application is created), not a manifest field: remove it.`, "key");
    return;
  }
  const homes = nearestHomes(key, path);
  if (homes.length > 0) {
    const places = orList(homes.map((home) => (home === "" ? "at the top level" : `in ${home.slice(1).replaceAll("/*", "[]").replaceAll("/", ".")}`)));
    report("misplaced-field", pointer, `"${key}" does not belong${where || " at the top level"}: it goes ${places}; move it there (the platform ignores it here).`, "key");
    return;
  }
  report("unknown-field", pointer, `Unknown field "${key}"${where}: the platform does not document it and ignores what it does not know; check the spelling or remove it.`, "key");
}

/** Every field the model knows, by name, with the pointer templates where it belongs (`/settings/*\/key`). */
const FIELD_HOMES: Map<string, string[]> = (() => {
  const homes = new Map<string, string[]>();
  const visit = (schema: z.ZodType, template: string, depth: number) => {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodArray) visit(inner.element as z.ZodType, `${template}/*`, depth);
    if (!(inner instanceof z.ZodObject) || depth > 4) return;
    for (const [key, member] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      if (z.globalRegistry.get(unwrap(member))?.deprecated) continue; // never suggest moving a field into a deprecated one
      const home = `${template}/${key}`;
      homes.set(key, [...(homes.get(key) ?? []), home]);
      visit(member, home, depth + 1);
    }
  };
  visit(manifestSchema, "", 0);
  return homes;
})();

/** The parents where `key` is a known field, closest to where it was written first (fewest shared segments dropped). */
function nearestHomes(key: string, path: readonly (string | number)[]): string[] {
  const here = path.slice(0, -1).map((part) => (typeof part === "number" ? "*" : part));
  const parents = (FIELD_HOMES.get(key) ?? []).map((home) => home.slice(0, home.lastIndexOf("/")));
  const shared = (parent: string) => {
    const parts = parent.split("/").slice(1);
    let n = 0;
    while (n < parts.length && parts[n] === here[n]) n++;
    return n;
  };
  const best = Math.max(...parents.map(shared));
  return parents.filter((parent) => shared(parent) === best && parent !== `/${here.join("/")}`.replace(/^\/$/, ""));
}

/** The model's schema for a path (array indexes step into the element), or undefined. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = manifestSchema;
  for (const part of path) {
    const inner: z.ZodType | undefined = schema ? unwrap(schema) : undefined;
    if (inner instanceof z.ZodArray) schema = inner.element as z.ZodType;
    else if (inner instanceof z.ZodObject) schema = (inner.shape as Record<string, z.ZodType>)[String(part)];
    else return undefined;
  }
  return schema;
}

function pointerPath(pointer: string): string[] {
  return pointer === "" ? [] : pointer.slice(1).split("/").map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

function lookup(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[String(part)];
  }
  return current;
}

/** `provider.name`, `settings[2].key`, `the manifest` for the root. */
function fieldLabel(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the manifest";
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

