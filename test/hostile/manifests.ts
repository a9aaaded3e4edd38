import fc from "fast-check";
import { VALID_MANIFEST } from "../helpers/manifest.js";

/**
 * Generators of hostile manifest texts (issue 18): what an attacker or a broken tool writes
 * into cumulocity.json or cumulocity.yaml. Each gives `{ text, file }`; the unit property
 * tests run them in-process by the thousand, the CLI tests spawn a sample of them.
 */
export interface ManifestCase {
  text: string;
  file: "cumulocity.json" | "cumulocity.yaml";
  /** For alias bombs: how many values the aliases would add if expanded in full. */
  aliasValues?: number;
}

const json = (text: string): ManifestCase => ({ text, file: "cumulocity.json" });
const yaml = (text: string): ManifestCase => ({ text, file: "cumulocity.yaml" });

/** Characters that trip readers: BOMs, lone surrogates, line and paragraph separators, NUL, RTL marks, combining marks. */
const oddChar = fc.constantFrom("\uFEFF", "\uD800", "\uDFFF", "\u2028", "\u2029", "\u0000", "\u200F", "\u0301", "\u{1F600}", "\r", "\u0085", "\uFFFE", "\\", '"', "'", "\t");
const oddText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.oneof(oddChar, fc.string({ maxLength: 3 })), { maxLength: 30 }).map((parts) => parts.join("")),
);

/** A JSON string literal written raw (JSON.stringify would escape the lone surrogates and controls we want in the text). */
const rawJsonString = (text: string) => `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

const FIELDS = ["apiVersion", "name", "version", "provider", "replicas", "resources", "requestedResources", "settings", "roles", "requiredRoles", "livenessProbe", "readinessProbe", "contextPath", "isolation"];

/** Numbers past every range: 400 digits, exponents past double, negative zero, denormals. */
const hugeNumber = fc.oneof(
  fc.constantFrom("1e400", "-1e400", "1E+99999999", "1e-400", "-0", "0.0000000000000000000000000001", "4.9e-324", "9007199254740993", "123456789012345678901234567890"),
  fc.integer({ min: 20, max: 400 }).map((n) => "9".repeat(n)),
  fc.integer({ min: 1, max: 400 }).map((n) => `1.${"0".repeat(n)}1`),
);

/** Objects and arrays nested up to well past the readers' cap, balanced or cut off. */
export const deepNesting: fc.Arbitrary<ManifestCase> = fc
  .record({
    depth: fc.integer({ min: 1, max: 700 }),
    opens: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
    cut: fc.boolean(),
    asYaml: fc.constantFrom("json", "flow", "block"),
  })
  .map(({ depth, opens, cut, asYaml }) => {
    const open = (i: number) => (opens[i % opens.length] ? "[" : '{"a": ');
    const close = (i: number) => (opens[i % opens.length] ? "]" : "}");
    if (asYaml === "block") return yaml(`a:\n  ${"- ".repeat(depth)}x\n`.slice(0, cut ? depth : undefined));
    let text = "";
    for (let i = 0; i < depth; i++) text += open(i);
    text += "1";
    if (!cut) for (let i = depth - 1; i >= 0; i--) text += close(i);
    return asYaml === "json" ? json(text) : yaml(`a: ${text.replaceAll('"a"', "a")}\n`);
  });

/** Valid manifests whose fields hold numbers no reader can represent exactly. */
export const hugeNumbers: fc.Arbitrary<ManifestCase> = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom(...FIELDS, "livenessProbe.httpGet.port", "resources.cpu"), hugeNumber), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([patches, asYaml]) => {
    let text = JSON.stringify(VALID_MANIFEST, null, 2);
    for (const [field, number] of patches) {
      const key = field.split(".").at(-1)!;
      text = text.includes(`"${key}":`) ? text.replace(new RegExp(`"${key}": [^,\\n]+`), `"${key}": ${number}`) : text.replace("{", `{"${key}": ${number},`);
    }
    // JSON is YAML (1.2): the same text through the YAML reader.
    return asYaml ? yaml(text) : json(text);
  });

/** Keys and values of odd unicode, with byte-order marks where readers do not expect them. */
export const oddUnicode: fc.Arbitrary<ManifestCase> = fc
  .record({
    bom: fc.constantFrom("", "\uFEFF", "\uFEFF\uFEFF", "\uFFFE"),
    members: fc.array(fc.tuple(fc.oneof(oddText, fc.constantFrom(...FIELDS)), oddText), { maxLength: 30 }),
    asYaml: fc.boolean(),
    midBom: fc.boolean(),
  })
  .map(({ bom, members, asYaml, midBom }) => {
    const body = members.map(([k, v]) => `${rawJsonString(k)}: ${rawJsonString(v)}`).join(midBom ? ",\uFEFF" : ",\n");
    const text = `${bom}{"apiVersion": "2", ${body}}`;
    return asYaml ? yaml(text) : json(text);
  });

/** Objects with the same keys again and again (a 138 KB file of them hung past 10 s). */
export const duplicateKeys: fc.Arbitrary<ManifestCase> = fc
  .record({
    keys: fc.array(fc.oneof(fc.constantFrom(...FIELDS), oddText), { minLength: 1, maxLength: 6 }),
    // Mostly small objects, some as big as the 138 KB file that hung.
    count: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 2, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 300, max: 6000 }) }),
    asYaml: fc.boolean(),
    nested: fc.boolean(),
  })
  .map(({ keys, count, asYaml, nested }) => {
    const members: string[] = [];
    for (let i = 0; i < count; i++) members.push(`${rawJsonString(keys[i % keys.length]!)}: ${nested ? `{"x": ${i}, "x": ${i}}` : i}`);
    const text = `{${members.join(",")}}`;
    return asYaml ? yaml(text) : json(text);
  });

/**
 * YAML anchors and aliases: trees where any node may carry an anchor from a small pool and any
 * leaf may be an alias to one, so the generated documents hold bombs (fan-out over levels),
 * cycles, aliases used before their anchor or never anchored, and aliases as keys.
 */
const anchorNames = ["a", "b", "c", "d"] as const;
interface YamlTree {
  anchor: string | undefined;
  node: { alias: string } | { scalar: string } | { seq: YamlTree[] } | { map: [string | { alias: string }, YamlTree][] };
}
const { tree } = fc.letrec<{ tree: YamlTree }>((tie) => ({
  tree: fc.record({
    anchor: fc.option(fc.constantFrom(...anchorNames), { nil: undefined, freq: 2 }),
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.record({ scalar: fc.oneof(fc.constantFrom("x", "1", "true", "~", "'q'"), fc.string({ maxLength: 4 }).filter((s) => /^[a-z]+$/.test(s))) }),
      fc.record({ alias: fc.constantFrom(...anchorNames, "nope") }),
      fc.record({ seq: fc.array(tie("tree"), { maxLength: 9 }) }),
      fc.record({ map: fc.array(fc.tuple(fc.oneof(fc.constantFrom("k", "apiVersion", "name"), fc.record({ alias: fc.constantFrom(...anchorNames) })), tie("tree")), { maxLength: 5 }) }),
    ),
  }),
}));
function flowYaml(t: YamlTree): string {
  const anchor = t.anchor ? `&${t.anchor} ` : "";
  const { node } = t;
  if ("alias" in node) return `*${node.alias}`; // an alias cannot carry an anchor
  if ("scalar" in node) return `${anchor}${node.scalar}`;
  if ("seq" in node) return `${anchor}[${node.seq.map(flowYaml).join(", ")}]`;
  return `${anchor}{${node.map.map(([k, v]) => `${typeof k === "string" ? k : `*${k.alias} `}: ${flowYaml(v)}`).join(", ")}}`;
}
export const aliasTrees: fc.Arbitrary<ManifestCase> = fc.array(tree, { minLength: 1, maxLength: 6 }).map((trees) => yaml(trees.map((t, i) => `k${i}: ${flowYaml(t)}`).join("\n")));

/** The classic bombs, with every number of levels and fan-out, in flow and block style. */
export const aliasBombs: fc.Arbitrary<ManifestCase> = fc
  .record({ levels: fc.integer({ min: 1, max: 14 }), fanout: fc.integer({ min: 1, max: 16 }), block: fc.boolean(), mapping: fc.boolean() })
  .map(({ levels, fanout, block, mapping }) => {
    const items = (level: number) => Array.from({ length: fanout }, (_, i) => (level === 0 ? "lol" : `*a${level - 1}`)).map((v, i) => (mapping ? `k${i}: ${v}` : v));
    const lines = Array.from({ length: levels }, (_, level) =>
      block ? `a${level}: &a${level}\n${items(level).map((v) => `  ${mapping ? "" : "- "}${v}`).join("\n")}` : `a${level}: &a${level} ${mapping ? `{${items(level).join(", ")}}` : `[${items(level).join(", ")}]`}`,
    );
    // Level k's subtree has 1 + fanout * (level k-1's) values; each level above 0 holds fanout aliases to the one below.
    const subtree = [1 + fanout];
    for (let level = 1; level < levels; level++) subtree.push(1 + fanout * subtree[level - 1]!);
    const aliasValues = subtree.slice(0, -1).reduce((sum, size) => sum + fanout * size, 0);
    return { ...yaml(`${lines.join("\n")}\n`), aliasValues };
  });

/** Files near and past the size cap: long strings, many members, long arrays. */
export const largeFiles: fc.Arbitrary<ManifestCase> = fc
  .record({ bytes: fc.integer({ min: 256 * 1024, max: 1536 * 1024 }), shape: fc.constantFrom("string", "members", "array", "comment"), asYaml: fc.boolean() })
  .map(({ bytes, shape, asYaml }) => {
    let text: string;
    if (shape === "string") text = `{"apiVersion": "2", "name": "${"n".repeat(bytes)}"}`;
    else if (shape === "members") text = `{${Array.from({ length: Math.floor(bytes / 12) }, (_, i) => `"k${i}": ${i}`).join(",")}}`;
    else if (shape === "array") text = `{"roles": [${'"ROLE_X",'.repeat(Math.floor(bytes / 9))}"ROLE_Y"]}`;
    else text = `${"# padding\n".repeat(Math.floor(bytes / 10))}apiVersion: "2"\n`;
    return shape === "comment" || asYaml ? yaml(text) : json(text);
  });

/** How many cases of each the in-process property test runs: the README's figures count them. */
export const MANIFEST_PROPERTY_RUNS = {
  deepNesting: 600,
  hugeNumbers: 800,
  oddUnicode: 1500,
  duplicateKeys: 300,
  aliasTrees: 2000,
  aliasBombs: 250,
  largeFiles: 6,
} as const;

/** How many of each generator test/hostile-cli.test.ts gives to the spawned CLI. */
export const MANIFEST_SPAWNED_PER_GENERATOR = 3;

export const MANIFEST_ARBITRARIES: Record<keyof typeof MANIFEST_PROPERTY_RUNS, fc.Arbitrary<ManifestCase>> = {
  deepNesting,
  hugeNumbers,
  oddUnicode,
  duplicateKeys,
  aliasTrees,
  aliasBombs,
  largeFiles,
};
