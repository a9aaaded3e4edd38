import { describe, expect, it } from "vitest";
import { bugReportHint } from "./main.js";

describe("an unexpected error's hint", () => {
  it("names the versions a maintainer needs and where to report", () => {
    const hint = bugReportHint({ version: "1.2.3", bugs: "https://example.com/c8y-ms/issues" }, false);
    expect(hint).toBe(
      `This is a bug in c8y-ms (c8y-ms 1.2.3, Node.js ${process.version}, ${process.platform} ${process.arch}). Please report it at https://example.com/c8y-ms/issues, with the command you ran and the output of the same command run again with --verbose.`,
    );
  });

  it("asks for the output shown when it already has the stack, and names the maintainers without a bugs URL", () => {
    expect(bugReportHint({ version: "1.2.3", bugs: undefined }, true)).toMatch(/Please report it to the maintainers of c8y-ms, with the command you ran and the output above\.$/);
  });
});
