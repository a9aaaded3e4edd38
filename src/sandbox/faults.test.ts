import { describe, expect, it } from "vitest";
import { pathPattern } from "./faults.js";

describe("pathPattern (TEAM.md part C: `*` is one segment)", () => {
  it.each([
    ["/application/applications/*/binaries", "/application/applications/123/binaries", true],
    ["/application/applications/*/binaries", "/application/applications/123/456/binaries", false],
    ["/application/applications/*", "/application/applications/123/binaries", false],
    ["/tenant/currentTenant", "/tenant/currentTenant/", true],
    ["/service/**", "/service/echo/a/b", true],
    ["/service/**", "/service", true],
    ["/a.b", "/aXb", false],
  ])("%s against %s is %s", (pattern, path, expected) => {
    expect(pathPattern(pattern).test(path)).toBe(expected);
  });
});
