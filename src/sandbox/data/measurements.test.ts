import { describe, expect, it } from "vitest";
import { measurementInput } from "./measurements.js";

describe("measurementInput", () => {
  it("takes source, time and type and lists each fragment and fragment.series", () => {
    const input = measurementInput({ source: { id: 7 }, time: "2024-01-01T00:00:00Z", type: "t", c8y_T: { T: { value: 1, unit: "C" }, note: "x" }, c8y_Meta: "plain" });
    expect(input).toMatchObject({ source: "7", type: "t", names: ["c8y_T", "c8y_T.T", "c8y_Meta"] });
    expect(input.time.toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });

  it.each([
    [{ c8y_T: { T: { value: 1 } } }, "Following mandatory fields should be included: source,time,type"],
    [{ source: { id: "1" }, time: "yesterday", type: "t" }, "time must be a date and time in ISO 8601"],
    [{ source: { id: "abc" }, time: "2024-01-01T00:00:00Z", type: "t" }, "source must reference a managed object"],
    [{ source: { id: "1" }, time: "2024-01-01T00:00:00Z", type: "t", c8y_T: { T: { unit: "C" } } }, "The value is mandatory for a fragment"],
    [{ source: { id: "1" }, time: "2024-01-01T00:00:00Z", type: "t", "c8y T": { T: { value: 1 } } }, "cannot be a fragment or series name"],
  ])("refuses %j", (body, message) => {
    expect(() => measurementInput(body)).toThrow(message);
  });
});
