import { describe, expect, it } from "vitest";
import { checkManifestText } from "./check.js";
import { loadManifest } from "./load.js";
import { MANIFEST_MAX_BYTES, MAX_ALIAS_NODES, MAX_NESTING } from "./limits.js";

/**
 * Manifests written to hurt (issue 18, 19): each used to hang, crash or eat gigabytes. Each
 * must now end in one diagnostic that says what is wrong, with work bounded by the text.
 */
const rules = (text: string, file: string) => {
  const report = checkManifestText(text, file);
  return [...report.errors, ...report.warnings].map((d) => d.rule);
};
const messages = (text: string, file: string) => checkManifestText(text, file).errors.map((d) => d.message);

/** "Billion laughs": nine levels of nine aliases each, 9^9 = 387 million strings from 460 bytes. */
function aliasBomb(levels = 9): string {
  let text = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n';
  for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]\n`;
  return text;
}

describe("hostile YAML manifests", () => {
  it("stops expanding aliases past the budget (a 460-byte bomb took 188 s and 2.5 GB)", () => {
    const bomb = aliasBomb();
    expect(bomb.length).toBeLessThan(500);
    expect(rules(bomb, "cumulocity.yaml")).toEqual(["yaml-syntax"]);
    expect(messages(bomb, "cumulocity.yaml")[0]).toBe(
      `YAML aliases here expand to more than ${MAX_ALIAS_NODES} values: a manifest never needs that many; write the values out instead of repeating an alias.`,
    );
  });

  it("still expands the few aliases a real manifest uses", () => {
    const text = ['apiVersion: "2"', 'version: "1.0.0"', "provider: &p", "  name: Example", "settings:", "  - &s {key: a, defaultValue: b}", "  - {key: c, defaultValue: d}", "x-copy: *p", ""].join("\n");
    const report = checkManifestText(text, "cumulocity.yaml");
    expect(report.errors).toEqual([]);
    expect((report.manifest as unknown as Record<string, unknown>)["x-copy"]).toEqual({ name: "Example" });
  });

  it("refuses a mapping or a list used as a key (182 bytes of nested keys crashed with 'Invalid string length')", () => {
    let text = "a";
    for (let i = 0; i < 25; i++) text = `{${text}: ${text.length < 50 ? text : "1"}}`;
    expect(text.length).toBeLessThan(200);
    expect(rules(text, "cumulocity.yaml")).toEqual(["yaml-syntax"]);
    expect(messages(text, "cumulocity.yaml")[0]).toBe("YAML syntax error: a key must be text, not a mapping or a list: JSON, which the platform reads, has only text keys.");
  });

  it("uses the text of an alias that names a scalar as the key", () => {
    const report = checkManifestText('k: &k apiVersion\n*k : "2"\nversion: "1.0.0"\nprovider: {name: x}\n', "cumulocity.yaml");
    expect((report.manifest as unknown as Record<string, unknown>).apiVersion).toBe("2");
  });

  it.each([
    ["flow mappings", (n: number) => `a: ${"{a: ".repeat(n)}1${"}".repeat(n)}\n`],
    ["flow sequences", (n: number) => `a: ${"[".repeat(n)}1${"]".repeat(n)}\n`],
    ["block sequences", (n: number) => `a:\n  ${"- ".repeat(n)}x\n`],
  ])("refuses %s nested deeper than the limit, at the place it is passed", (_, nest) => {
    const report = checkManifestText(nest(MAX_NESTING + 10), "cumulocity.yaml");
    expect(report.errors.map((d) => [d.rule, d.message])).toEqual([["yaml-syntax", `Nesting deeper than ${MAX_NESTING} levels: a manifest is never this deep.`]]);
    expect(checkManifestText(nest(20_000), "cumulocity.yaml").errors.map((d) => d.rule)).toEqual(["yaml-syntax"]);
  });

  it("accepts nesting up to the limit", () => {
    const text = `a: ${"[".repeat(MAX_NESTING - 1)}1${"]".repeat(MAX_NESTING - 1)}\n`;
    expect(rules(text, "cumulocity.yaml").filter((r) => r === "yaml-syntax")).toEqual([]);
  });
});

describe("many unknown keys", () => {
  it("reports 40,000 of them, each with its near-miss search (a matrix per comparison took seconds)", () => {
    const members = Array.from({ length: 40_000 }, (_, i) => `"x${i}\u{1F600}": 1`);
    const report = checkManifestText(`{"apiVersion": "2", ${members.join(", ")}}`, "cumulocity.json");
    expect(report.warnings.filter((d) => d.rule === "unknown-field")).toHaveLength(40_000);
  });
});

describe("manifest size", () => {
  it("refuses a text larger than the cap, as JSON and as YAML, without reading it", () => {
    const big = `{"apiVersion": "2", "pad": "${"x".repeat(MANIFEST_MAX_BYTES)}"}`;
    for (const file of ["cumulocity.json", "cumulocity.yaml"]) {
      const report = checkManifestText(big, file);
      expect(report.errors.map((d) => [d.rule, d.line, d.column])).toEqual([["manifest-size", 1, 1]]);
      expect(report.errors[0]!.message).toMatch(/^The manifest has more than 1 MiB; a manifest is a few kilobytes/);
    }
  });

  it("reads at most the cap from a file that never ends (validate /dev/zero grew without end)", async () => {
    const report = await loadManifest("/dev/zero");
    expect(report.errors.map((d) => d.rule)).toEqual(["manifest-size"]);
    expect(report.manifest).toBeUndefined();
  });
});
