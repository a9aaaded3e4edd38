import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe } from "vitest";

/** Whether `program` is an executable file on PATH. */
export function onPath(program: string, path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
}

/**
 * Tests that check our output with other programs (unzip, Python's zipfile, Java's ZipInputStream).
 * On a developer machine without one of them they are skipped, and the reason is printed; under
 * CI they always run, so a missing program fails them instead of hiding them.
 */
export function describeWithTools(tools: readonly string[], name: string, body: () => void): void {
  const missing = tools.filter((tool) => !onPath(tool));
  if (missing.length > 0 && !inCi()) {
    console.warn(`Skipping "${name}": ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not on PATH (install ${missing.length === 1 ? "it" : "them"} to run these tests; CI always runs them).`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}
