import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { recordFigure } from "../../test/helpers/figures.js";
import { MANIFEST_ARBITRARIES, MANIFEST_PROPERTY_RUNS, type ManifestCase } from "../../test/hostile/manifests.js";
import { checkManifestText, type ManifestReport } from "./check.js";
import { MAX_ALIAS_NODES } from "./limits.js";
import { RULES } from "./rules.js";

/**
 * Hostile manifests by the thousand (issue 18): deep nesting, huge numbers, odd unicode and
 * BOMs, duplicate keys, alias trees and bombs, files near and past the size cap. Checking any
 * of them gives a report, never an exception; every diagnostic points inside the text; and
 * the report is bounded by the text (work that grows faster than the input, as alias
 * expansion did, shows here as more diagnostics than the text could hold).
 */
function assertBoundedReport({ text, file }: ManifestCase, report: ManifestReport): void {
  const lines = text.split(/\r\n|\r|\n/);
  if (text.charCodeAt(0) === 0xfeff) lines[0] = (lines[0] ?? "").slice(1);
  const all = [...report.errors, ...report.warnings];
  expect(all.length).toBeLessThanOrEqual(text.length + MAX_ALIAS_NODES + 16);
  // Plain checks, one expect: thousands of diagnostics per case would spend the time in expect().
  const misplaced = all.filter(
    (d) =>
      d.file !== file ||
      !Object.hasOwn(RULES, d.rule) ||
      d.message.length === 0 ||
      d.line < 1 ||
      d.line > lines.length ||
      d.column < 1 ||
      d.column > (lines[d.line - 1] ?? "").length + 1,
  );
  expect(misplaced).toEqual([]);
  expect(report.manifest === undefined).toBe(report.errors.length > 0);
}

describe("hostile manifests never throw and stay bounded by their text (property)", () => {
  for (const [name, runs] of Object.entries(MANIFEST_PROPERTY_RUNS) as [keyof typeof MANIFEST_PROPERTY_RUNS, number][]) {
    it(`${name}: ${runs} generated cases`, () => {
      let tried = 0;
      fc.assert(
        fc.property(MANIFEST_ARBITRARIES[name], (input) => {
          tried++;
          const report = checkManifestText(input.text, input.file);
          assertBoundedReport(input, report);
          // Bombs: refused exactly when their aliases would add more values than the budget.
          if (input.aliasValues !== undefined) expect(report.errors.some((d) => d.message.startsWith("YAML aliases here expand to more than"))).toBe(input.aliasValues > MAX_ALIAS_NODES);
        }),
        { numRuns: runs },
      );
      recordFigure("generated-inputs", tried);
    }, 120_000);
  }

});
