import { ApiError } from "../http.js";

/**
 * What measurements, events, alarms, operations and managed objects share: the platform's
 * validation answers and the split of a document into its fixed fields and its fragments.
 */

/**
 * The platform's answer to a document without a mandatory field, seen verbatim for an
 * alarm without time (cumulocity-python-api issue #14):
 * `{"error":"undefined/validationError","message":"Following mandatory fields should be included: time"}`.
 */
export function validationError(message: string): ApiError {
  return new ApiError(422, "undefined/validationError", message);
}

export function requireFields(body: Record<string, unknown>, fields: readonly string[]): void {
  const missing = fields.filter((field) => body[field] === undefined || body[field] === null || body[field] === "");
  if (missing.length > 0) throw validationError(`Following mandatory fields should be included: ${missing.join(",")}`);
}

export type Json = Record<string, unknown>;

/** A date-time field: ISO 8601 as the platform takes it; anything else is a 422 naming the field. */
export function readTime(value: unknown, field: string): Date {
  const time = typeof value === "string" ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw validationError(`${field} must be a date and time in ISO 8601, e.g. 2024-01-01T12:00:00.000Z; got ${JSON.stringify(value)}.`);
  return time;
}

/** `source: {id}` (or `deviceId` for operations): the managed object a document belongs to. */
export function referencedId(value: unknown, field: string): string {
  const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : value;
  const text = typeof id === "number" ? String(id) : id;
  if (typeof text !== "string" || !/^\d+$/.test(text)) throw validationError(`${field} must reference a managed object by its id, e.g. {"id": "12345"}.`);
  return text;
}

/** The fragments of `body`: what is left once the fixed fields are taken out. */
export function fragmentsOf(body: Json, fixed: ReadonlySet<string>): Json {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !fixed.has(key)));
}

/** An update of fragments: each one in `changes` replaces the stored one, `null` removes it, others stay. */
export function mergeFragments(stored: Json, changes: Json): Json {
  const body = { ...stored };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete body[key];
    else body[key] = value;
  }
  return body;
}

/** Top-level fragment names, which `fragmentType` and `has()` look up. */
export function fragmentNames(fragments: Json): string[] {
  return Object.keys(fragments);
}

/** Numeric ids only: anything else cannot exist, and must not reach SQL as a bigint. */
export function isId(value: string | undefined): value is string {
  return value !== undefined && /^\d{1,18}$/.test(value);
}

/** Comma-separated ids of a query parameter (`ids=1,2,3`). */
export function idList(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  return value.split(",").map((id) => id.trim()).filter(isId);
}
