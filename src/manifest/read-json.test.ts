import { describe, expect, it } from "vitest";
import { checkManifestText } from "./check.js";
import { readJson } from "./read-json.js";
import { LineIndex } from "./source.js";

function syntaxError(text: string) {
  const report = checkManifestText(text, "cumulocity.json");
  expect(report.errors).toHaveLength(1);
  expect(report.manifest).toBeUndefined();
  const [error] = report.errors;
  expect(error?.rule).toBe("json-syntax");
  return { line: error?.line, column: error?.column, message: error?.message ?? "" };
}

describe("strict JSON with positions (RFC 8259)", () => {
  it.each([
    ["a trailing comma in an object", '{\n  "a": 1,\n}', 3, 1, "Trailing comma before '}': remove the ',' at line 2 column 9"],
    ["a trailing comma in an array", '{"a": [1, 2,\n ]}', 2, 2, "Trailing comma before ']'"],
    ["a missing comma", '{\n  "version": "1.1.2"\n  "provider": {}\n}', 3, 3, "add a comma after the value that ends at line 2 column 21"],
    ["a missing colon", '{"a" 1}', 1, 6, "Expected ':' after the property name \"a\""],
    ["an unquoted key", "{\n  isolation: 1}", 2, 3, 'Property names must be in double quotes: write "isolation"'],
    ["single quotes", "{'a': 1}", 1, 2, "double quotes"],
    ["a comment", '{\n  // the name\n  "a": 1}', 2, 3, "Comments are not allowed in JSON"],
    ["a block comment", '{"a": /* x */ 1}', 1, 7, "Comments are not allowed"],
    ["an unterminated string", '{"a": "abc', 1, 11, "Unterminated string starting at line 1 column 7"],
    ["a line break in a string", '{"a": "ab\ncd"}', 1, 10, "a string cannot span lines"],
    ["a tab in a string", '{"a": "a\tb"}', 1, 9, "\\t for a tab"],
    ["an invalid escape", '{"a": "C:\\temp\\x"}', 1, 15, "Invalid escape '\\x'"],
    ["a bad unicode escape", '{"a": "\\u12G4"}', 1, 8, "four hex digits"],
    ["a leading zero", '{"replicas": 02}', 1, 14, "without leading zeros"],
    ["a trailing dot", '{"replicas": 2.}', 1, 14, "Invalid number"],
    ["a plus sign", '{"replicas": +2}', 1, 14, "do not start with '+'"],
    ["Python's True", '{"editable": True}', 1, 14, "write true"],
    ["NaN", '{"replicas": NaN}', 1, 14, "Unexpected 'NaN'"],
    ["an unclosed object", '{\n  "a": {\n    "b": 1\n', 4, 1, "close the '{' opened at line 2 column 8"],
    ["an unclosed array", '{"a": [1, 2', 1, 12, "close the '[' opened at line 1 column 7"],
    ["content after the object", '{"a": 1}\n{"b": 2}', 2, 1, "after the end of the manifest"],
    ["an empty file", "", 1, 1, "The file is empty"],
    ["a file of blank lines", "\n\n  \n", 4, 1, "The file is empty"],
    ["a value missing before a brace", '{"a": }', 1, 7, "Expected a value before '}'"],
  ])("reports %s where it is", (_what, text, line, column, words) => {
    const error = syntaxError(text);
    expect({ line: error.line, column: error.column }).toEqual({ line, column });
    expect(error.message).toContain(words);
  });

  it("counts CRLF line breaks once, like editors", () => {
    const text = '{\r\n  "apiVersion": "1",\r\n  "version": "1.0.0",\r\n  "provider": {"name": "x"}\r\n}\r\n';
    const report = checkManifestText(text, "cumulocity.json");
    expect(report.errors.map((d) => [d.rule, d.line, d.column])).toEqual([["api-version-removed", 2, 17]]);
    expect(syntaxError('{\r\n  "a": 1,\r\n}').line).toBe(3);
  });

  it("counts a tab as one column, like editors and compilers", () => {
    const text = '{\n\t"apiVersion":\t"1",\n\t"version": "1.0.0", "provider": {"name": "x"}\n}';
    const report = checkManifestText(text, "cumulocity.json");
    expect(report.errors.map((d) => [d.rule, d.line, d.column])).toEqual([["api-version-removed", 2, 16]]);
  });

  it("ignores a byte-order mark in values and columns", () => {
    const report = checkManifestText('\uFEFF{"apiVersion": "1", "version": "1.0.0", "provider": {"name": "x"}}', "cumulocity.json");
    expect(report.errors.map((d) => [d.rule, d.line, d.column])).toEqual([["api-version-removed", 1, 16]]);
  });

  it("keeps __proto__ and constructor as ordinary keys", () => {
    const read = readJson('{"__proto__": {"polluted": true}, "constructor": 1}');
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const value = read.document.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("decodes strings exactly like JSON.parse", () => {
    const text = '{"s": "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", "n": [-0.5, 1e3, 2E-2, 0, -12], "l": [true, false, null]}';
    const read = readJson(text);
    expect(read.ok && read.document.value).toEqual(JSON.parse(text));
  });

  it("records the location of every value and key", () => {
    const text = '{\n  "a": [1, {"b": "x"}]\n}';
    const read = readJson(text);
    if (!read.ok) throw new Error("expected valid JSON");
    const lines = new LineIndex(text);
    const at = (pointer: string) => {
      const location = read.document.locations.get(pointer);
      return location && { value: lines.position(location.value.start), key: location.key && lines.position(location.key.start) };
    };
    expect(at("")).toEqual({ value: { line: 1, column: 1 }, key: undefined });
    expect(at("/a")).toEqual({ value: { line: 2, column: 8 }, key: { line: 2, column: 3 } });
    expect(at("/a/1/b")).toEqual({ value: { line: 2, column: 18 }, key: { line: 2, column: 13 } });
  });

  it("stops hostile nesting with a message instead of overflowing the stack", () => {
    const error = syntaxError(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(error.message).toContain("Nesting deeper than 256 levels");
  });

  it("warns about a key written twice and keeps the last value, as every JSON reader does", () => {
    const report = checkManifestText('{"apiVersion": "2", "version": "1.0.0", "provider": {"name": "a", "name": "b"}}', "cumulocity.json");
    expect(report.errors).toEqual([]);
    expect(report.warnings).toMatchObject([{ rule: "duplicate-key", pointer: "/provider/name", line: 1, column: 67 }]);
    expect(report.manifest?.provider.name).toBe("b");
  });
});
