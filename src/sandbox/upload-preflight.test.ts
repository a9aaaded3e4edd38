import { describe, expect, it } from "vitest";
import { nestingDepth } from "./upload-preflight.js";

describe("nestingDepth", () => {
  it.each([
    ["{}", 1],
    ['{"a": {"b": [1, {"c": []}]}}', 5],
    ['{"text": "[[[{{{", "x": 1}', 1],
    ['{"escaped": "quote \\" then [[[", "y": [2]}', 2],
    ["42", 0],
  ])("%s nests %i deep", (text, depth) => {
    expect(nestingDepth(text)).toBe(depth);
  });

  it("stops counting once past the limit", () => {
    expect(nestingDepth("[".repeat(1_000_000), 100)).toBe(101);
  });
});
