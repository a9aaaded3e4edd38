import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../diagnostics.js";
import { renderDiagnostics } from "./diagnostics.js";

const problem = (line: number, entry?: string): Diagnostic => ({ file: "/p/x.zip", entry, line, column: 3, pointer: "", message: "m", rule: "r", severity: line % 2 ? "error" : "warning" });

describe("renderDiagnostics", () => {
  it("groups by place in the order given, each group headed by its counts", () => {
    const text = renderDiagnostics([problem(1), problem(1, "cumulocity.json"), problem(2, "cumulocity.json")], (file) => file.slice(3));
    expect(text.split("\n")).toEqual([
      "x.zip: 1 error, 0 warnings",
      "x.zip:1:3  (root)  error: m [r]",
      "",
      "x.zip!cumulocity.json: 1 error, 1 warning",
      "x.zip!cumulocity.json:1:3  (root)  error: m [r]",
      "x.zip!cumulocity.json:2:3  (root)  warning: m [r]",
    ]);
  });

  it("renders 32,953 problems, every one on its line under one heading", () => {
    const count = 32_953;
    const lines = renderDiagnostics(Array.from({ length: count }, (_, i) => problem(i + 1, "cumulocity.json"))).split("\n");
    expect(lines).toHaveLength(count + 1);
    expect(lines[0]).toBe(`/p/x.zip!cumulocity.json: ${Math.ceil(count / 2)} errors, ${Math.floor(count / 2)} warnings`);
    expect(lines[count]).toBe(`/p/x.zip!cumulocity.json:${count}:3  (root)  error: m [r]`);
  });
});
