import { describe, expect, it } from "vitest";
import { cpuMillicores, memoryBytes } from "./formats.js";

describe("CPU and memory quantities as the platform reads them (platform.md §1.3)", () => {
  it.each([
    ["500m", 500],
    ["0.5", 500],
    ["1", 1000],
    ["16", 16000],
    ["0.25", 250],
    ["1.5m", 1.5],
    ["500M", undefined],
    ["-1", undefined],
    ["", undefined],
  ])("cpu %s is %s millicores", (text, millicores) => {
    expect(cpuMillicores(text)).toBe(millicores);
  });

  it.each([
    ["512M", 512e6],
    ["128Mi", 128 * 2 ** 20],
    ["1G", 1e9],
    ["1Gi", 2 ** 30],
    ["10K", 10e3],
    ["2Ki", 2048],
    ["1E", 1e18],
    ["1Ei", 2 ** 60],
    ["100", 100],
    ["100B", 100],
    ["512 M", 512e6],
    ["512m", undefined],
    ["1.5G", undefined],
    ["1MB", undefined],
  ])("memory %s is %s bytes", (text, bytes) => {
    expect(memoryBytes(text)).toBe(bytes);
  });
});
