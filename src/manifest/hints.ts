/** Helpers that turn a bad value into "what to write instead". */

/**
 * The candidate the user most likely meant: the same word in another case or with `_`/`-`
 * (`ContextPath`, `context_path`), else the nearest one within a small edit distance.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    if (fold(candidate) === folded) return candidate;
    const distance = editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = folded.length <= 4 ? 1 : folded.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of
 * neighbours. Three rolling rows, reused between calls: a manifest with 40,000 unknown keys
 * asks for a million distances, and allocating a matrix for each took seconds.
 */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  if (rows[0].length <= b.length) rows = [new Int32Array(b.length + 1), new Int32Array(b.length + 1), new Int32Array(b.length + 1)];
  let [beforePrevious, previous, row] = rows;
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[j - 2]! + 1);
      row[j] = value;
    }
    [beforePrevious, previous, row] = [previous, row, beforePrevious];
  }
  return previous[b.length]!;
}

let rows: [Int32Array, Int32Array, Int32Array] = [new Int32Array(32), new Int32Array(32), new Int32Array(32)];

const PLACEHOLDERS: { pattern: RegExp; what: string; fix: string }[] = [
  {
    pattern: /@[A-Za-z][\w.-]*@/,
    what: "a Maven resource-filtering placeholder that was never filled in",
    fix: "validate the manifest the build writes (with filtering on), or write the value itself",
  },
  { pattern: /\$\{[^}\s]+\}/, what: "a template placeholder that was never filled in", fix: "substitute it before packing, or write the value itself" },
  {
    pattern: /\{\{[^}\s]+\}\}|\{[A-Za-z_][\w.-]*\}/,
    what: "a template placeholder that your build script did not replace",
    fix: "fix the substitution, or write the value itself",
  },
];

/**
 * Explains a leftover `@project.version@`, `${VERSION}` or `{VERSION}` in a field (the corpus
 * has many: templates validated before their build filled them in); undefined when there is none.
 */
export function placeholderMessage(field: string, value: string, example: string): string | undefined {
  for (const { pattern, what, fix } of PLACEHOLDERS) {
    const token = pattern.exec(value)?.[0];
    if (!token) continue;
    const subject = token === value ? `${field} ${show(value)} is` : `${field} ${show(value)} contains ${token},`;
    return `${subject} ${what}: ${fix}, e.g. ${example}.`;
  }
  return undefined;
}

/** A value as the user wrote it, for messages: strings quoted, the rest as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** "a string", "the number 2", "null": how we name a value's kind in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${show(value)}`;
    case "number":
      return `the number ${show(value)}`;
    case "boolean":
      return `${value}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

export function orList(values: readonly string[]): string {
  if (values.length <= 1) return values.join("");
  return `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
}
