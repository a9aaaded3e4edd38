import { describe, expect, it } from "vitest";
import { formatShapeDifferences, shapeDifferences } from "./helpers/shape.js";

/** The shape comparison the platform contract tests rely on (test/helpers/shape.ts). */

const recorded = {
  id: "310",
  c8y_Status: {
    lastUpdated: { date: { $date: "2022-03-14T09:26:40.512Z" }, offset: 0 },
    instances: { "svc-scope-t1-deployment-a-b": { restarts: 2, scheduled: true } },
    details: { desired: 1, active: 1 },
  },
  settingsCategory: null,
  references: [],
  values: [{ min: 1, max: 2 }, {}],
};

describe("shapeDifferences", () => {
  it("finds nothing when keys, types and nesting agree, whatever the values", () => {
    const same = {
      id: "1",
      c8y_Status: {
        lastUpdated: { date: { $date: "2030-01-01T00:00:00.000Z" }, offset: 60 },
        instances: { "svc-scope-t1-deployment-a-b": { restarts: 0, scheduled: false } },
        details: { desired: 2, active: 0 },
      },
      settingsCategory: "anything",
      references: [{ any: "element" }],
      values: [{}, { min: 5, max: 6 }],
    };
    expect(shapeDifferences(same, recorded)).toEqual([]);
  });

  it("names a wrong type, a missing key and a key the recording lacks by their paths", () => {
    const sandbox = {
      id: 310,
      c8y_Status: { lastUpdated: "2022-03-14T09:26:40.512Z", instances: {}, details: { desired: 1 }, reason: "invented" },
      settingsCategory: null,
      references: [],
      values: [],
    };
    expect(shapeDifferences(sandbox, recorded)).toEqual([
      "id: expected string, got number",
      "c8y_Status.lastUpdated: expected object, got string",
      "c8y_Status.instances.svc-scope-t1-deployment-a-b: missing",
      "c8y_Status.details.active: missing",
      "c8y_Status.reason: not in the recorded response",
    ]);
  });

  it("compares the values of a map with the recorded values, whatever their keys", () => {
    const other = { ...recorded, c8y_Status: { ...recorded.c8y_Status, instances: { "other-name": { restarts: "2", scheduled: true } } } };
    expect(shapeDifferences(other, recorded, { maps: ["c8y_Status.instances"] })).toEqual(["c8y_Status.instances.*.restarts: expected number, got string"]);
  });

  it("compares each array element with the closest recorded element", () => {
    const wrong = { ...recorded, values: [{ min: 1 }, { min: 1, max: 2, avg: 3 }] };
    expect(shapeDifferences(wrong, recorded)).toEqual(["values[].max: missing", "values[].avg: not in the recorded response"]);
  });

  it("allows the keys marked optional to be missing and the keys marked extra to be added", () => {
    const partial = { ...recorded, id: undefined, documented: true } as Record<string, unknown>;
    delete partial.id;
    expect(shapeDifferences(partial, recorded, { optional: ["id"], extra: ["documented"] })).toEqual([]);
  });

  it("formats the differences as one readable message", () => {
    expect(formatShapeDifferences("status object", ["a: missing", "b: not in the recorded response"])).toBe(
      "status object: 2 difference(s) from the recorded shape:\n  - a: missing\n  - b: not in the recorded response",
    );
    expect(formatShapeDifferences("status object", [])).toBe("status object: same shape as the recording");
  });
});
