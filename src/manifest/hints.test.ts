import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closestMatch, editDistance } from "./hints.js";

/** The textbook optimal string alignment distance, one full matrix per call: what editDistance must equal. */
function reference(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

describe("editDistance", () => {
  it("equals the full-matrix distance for strings of near length, whatever was computed before (property)", () => {
    const word = fc.string({ unit: fc.constantFrom(..."abcdeé_-"), maxLength: 40 });
    fc.assert(
      fc.property(word, word, (a, b) => {
        if (Math.abs(a.length - b.length) > 3) expect(editDistance(a, b)).toBe(Math.abs(a.length - b.length));
        else expect(editDistance(a, b)).toBe(reference(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it("counts a swap of neighbours as one edit, and still finds near misses", () => {
    expect(editDistance("isolaton", "isolation")).toBe(1);
    expect(editDistance("ab", "ba")).toBe(1);
    expect(closestMatch("replcias", ["replicas", "resources"])).toBe("replicas");
  });
});
