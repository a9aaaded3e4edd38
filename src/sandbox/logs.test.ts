import { describe, expect, it } from "vitest";
import { memoryBytes, mergeLogs } from "./containers.js";

describe("memoryBytes (platform.md §1.3 units)", () => {
  it.each([
    ["512M", 512_000_000],
    ["256Mi", 256 * 2 ** 20],
    ["1G", 1e9],
    ["2Gi", 2 * 2 ** 30],
    ["1048576", 1_048_576],
    ["100 K", 100_000],
  ])("%s is %i bytes", (text, bytes) => {
    expect(memoryBytes(text)).toBe(bytes);
  });
});

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
