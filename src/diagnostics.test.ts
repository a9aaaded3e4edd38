import { describe, expect, it } from "vitest";
import { diagnosticDocument, findingsOf, formatDiagnostic, inDocumentOrder, placeOf, quotedDiagnostics, type Diagnostic } from "./diagnostics.js";

const at = (line: number, severity: Diagnostic["severity"], extra: Partial<Diagnostic> = {}): Diagnostic => ({
  file: "/work/svc.zip",
  line,
  column: 1,
  pointer: `/p${line}`,
  message: `m${line}`,
  rule: "rule",
  severity,
  ...extra,
});

describe("diagnostics", () => {
  it("places an entry of a zip after the zip's name, and the JSON document folds it into file", () => {
    const inEntry = at(2, "error", { entry: "cumulocity.json" });
    expect(placeOf(inEntry)).toBe("/work/svc.zip!cumulocity.json");
    expect(placeOf(inEntry, (file) => file.replace("/work/", ""))).toBe("svc.zip!cumulocity.json");
    expect(formatDiagnostic(inEntry)).toBe("/work/svc.zip!cumulocity.json:2:1  /p2  error: m2 [rule]");
    expect(diagnosticDocument(inEntry)).toEqual({ file: "/work/svc.zip!cumulocity.json", line: 2, column: 1, pointer: "/p2", message: "m2", rule: "rule" });
    expect(Object.keys(diagnosticDocument(at(1, "warning")))).toEqual(["file", "line", "column", "pointer", "message", "rule"]);
  });

  it("sorts once into errors and warnings: the zip before its entries, then by position", () => {
    const zipLevel = at(1, "error", { rule: "zip-size" });
    const manifest = at(3, "error", { entry: "cumulocity.json" });
    const image = at(1, "error", { entry: "image.tar" });
    const warning = at(2, "warning", { entry: "cumulocity.json" });
    const { errors, warnings } = findingsOf([image, warning, manifest, zipLevel]);
    expect(errors).toEqual([zipLevel, manifest, image]);
    expect(warnings).toEqual([warning]);
    expect([...inDocumentOrder({ errors, warnings })]).toEqual([zipLevel, warning, manifest, image]);
  });

  it("quotes the first five in a hint and counts the rest", () => {
    const many = Array.from({ length: 7 }, (_, i) => at(i + 1, "error"));
    const quoted = quotedDiagnostics(many);
    expect(quoted).toHaveLength(6);
    expect(quoted.at(-1)).toBe("… and 2 more.");
  });
});
