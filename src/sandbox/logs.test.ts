import { describe, expect, it } from "vitest";
import { logsArgs, logsDocument, mergeLogs } from "./logs.js";

describe("mergeLogs", () => {
  it("interleaves stdout and stderr by time and drops the timestamps", () => {
    const stdout = "2024-05-01T10:00:00.100000000Z started\n2024-05-01T10:00:02.5Z GET /health\n";
    const stderr = "2024-05-01T10:00:01.000000001Z warning: slow\n";
    expect(mergeLogs(stdout, stderr)).toEqual({ logs: "started\nwarning: slow\nGET /health\n", truncated: false });
  });
  it("gives empty logs for a silent container", () => {
    expect(mergeLogs("", "")).toEqual({ logs: "", truncated: false });
  });
});

describe("logsArgs and logsDocument (platform.md §3.3 #18)", () => {
  const now = new Date("2024-05-01T12:00:00.000Z");
  it("asks up to now, and from dateFrom when given", () => {
    expect(logsArgs("c1", {}, now)).toEqual(["logs", "--timestamps", "--until", "2024-05-01T12:00:00.000Z", "c1"]);
    expect(logsArgs("c1", { dateFrom: "2024-05-01T11:00:00Z", dateTo: "2024-05-01T11:30:00Z" }, now)).toEqual([
      "logs", "--timestamps", "--until", "2024-05-01T11:30:00Z", "--since", "2024-05-01T11:00:00Z", "c1",
    ]);
  });
  it("says the range it covers: from the beginning of time up to now when none was asked", () => {
    expect(logsDocument("", "", {}, now)).toEqual({ dateFrom: "1970-01-01T00:00:00.000Z", dateTo: "2024-05-01T12:00:00.000Z", logs: "", truncated: false });
  });
});
