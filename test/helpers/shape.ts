/**
 * Compares the shape of a JSON value with a recorded one (test/fixtures/platform): the same
 * keys, the same value types, the same nesting. Values themselves are not compared.
 *
 * Paths name what they point at: `a.b` a key, `a[]` the elements of an array, `a.*` the
 * values of an object used as a map (instance names, tenant ids). Options refer to these paths.
 *
 * - A `null` in the recording says nothing about the type, so anything matches it.
 * - An empty array in the recording matches any array; otherwise each element must match one
 *   of the recorded elements (recorded arrays may mix shapes, e.g. `{}` and `{min, max}`).
 * - A key of the recording that is missing is a difference unless it is `optional`; a key the
 *   recording lacks is a difference unless it is `extra` (the platform documents it elsewhere).
 */

export interface ShapeOptions {
  /** Recorded keys the compared value may leave out. */
  optional?: readonly string[];
  /** Keys the compared value may carry though the recording lacks them. */
  extra?: readonly string[];
  /** Objects whose keys are data (instance names, tenant ids): every value is compared with the recorded values. */
  maps?: readonly string[];
}

type Kind = "null" | "array" | "object" | "string" | "number" | "boolean";

function kindOf(value: unknown): Kind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const kind = typeof value;
  if (kind === "object" || kind === "string" || kind === "number" || kind === "boolean") return kind;
  throw new TypeError(`not a JSON value: ${kind}`);
}

function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** The differences between `actual` and the recorded `expected`, one readable line each; empty when the shapes agree. */
export function shapeDifferences(actual: unknown, expected: unknown, options: ShapeOptions = {}): string[] {
  const optional = new Set(options.optional ?? []);
  const extra = new Set(options.extra ?? []);
  const maps = new Set(options.maps ?? []);

  function compare(got: unknown, want: unknown, path: string): string[] {
    const wanted = kindOf(want);
    if (wanted === "null") return [];
    const found = kindOf(got);
    const where = path === "" ? "(root)" : path;
    if (found !== wanted) return [`${where}: expected ${wanted}, got ${found}`];
    if (wanted === "array") return compareElements(got as unknown[], want as unknown[], `${path}[]`);
    if (wanted !== "object") return [];
    const gotObject = got as Record<string, unknown>;
    const wantObject = want as Record<string, unknown>;
    if (maps.has(path)) return compareElements(Object.values(gotObject), Object.values(wantObject), child(path, "*"));
    const differences: string[] = [];
    for (const [key, value] of Object.entries(wantObject)) {
      const at = child(path, key);
      if (!(key in gotObject)) {
        if (!optional.has(at)) differences.push(`${at}: missing`);
        continue;
      }
      differences.push(...compare(gotObject[key], value, at));
    }
    for (const key of Object.keys(gotObject)) {
      const at = child(path, key);
      if (!(key in wantObject) && !extra.has(at)) differences.push(`${at}: not in the recorded response`);
    }
    return differences;
  }

  /** Each value must match one of the recorded ones; a mismatch is reported against the closest. */
  function compareElements(got: unknown[], want: unknown[], path: string): string[] {
    if (want.length === 0) return [];
    const differences: string[] = [];
    for (const value of got) {
      const candidates = want.map((recorded) => compare(value, recorded, path));
      const closest = candidates.reduce((best, next) => (next.length < best.length ? next : best));
      if (closest.length > 0) differences.push(...closest.filter((line) => !differences.includes(line)));
    }
    return differences;
  }

  return compare(actual, expected, "");
}

/** The differences as one message for a failing assertion. */
export function formatShapeDifferences(name: string, differences: readonly string[]): string {
  if (differences.length === 0) return `${name}: same shape as the recording`;
  return [`${name}: ${differences.length} difference(s) from the recorded shape:`, ...differences.map((line) => `  - ${line}`)].join("\n");
}
