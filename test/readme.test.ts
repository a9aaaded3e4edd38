import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/errors.js";
import { runCli } from "./helpers/cli.js";
import { REPO_ROOT } from "./helpers/paths.js";

/**
 * The README is what a newcomer follows: its first two commands must be real scripts, CI must
 * run the second, and every command and flag it documents must exist in the CLI.
 */
const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** `### \`c8y-ms a|b <x>\`` headings with the flags (backticked `--x`) of their section. */
function documentedCommands(): { command: string; flags: string[] }[] {
  const sections = readme.split(/^### /m).slice(1);
  return sections.flatMap((section) => {
    const heading = /^`c8y-ms ([a-z|]+)/.exec(section);
    if (!heading?.[1]) return [];
    const body = section.split(/^#{2,4} /m)[0] ?? "";
    const flags = [...new Set([...body.matchAll(/`(?:-[a-z], )?(--[a-z][a-z-]*)/g)].map((m) => m[1] as string))];
    return heading[1].split("|").map((command) => ({ command, flags }));
  });
}

describe("README.md", () => {
  it("starts with the main job and the test suite, as npm scripts that exist; .ci/run runs both", () => {
    const first = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const commands = first.split("\n").filter(Boolean).map((line) => line.replace(/\s+#.*$/, ""));
    expect(commands).toEqual(["npm run demo", "npm run test:all"]);
    expect(pkg.scripts.demo).toBe("scripts/demo.sh");
    expect(pkg.scripts["test:all"]).toBe("scripts/test-all.sh");
    const ci = readFileSync(join(REPO_ROOT, ".ci", "run"), "utf8");
    expect(ci).toMatch(/^npm run test:all$/m);
    expect(ci).toMatch(/^npm run demo$/m);
  });

  it("lists every error code with its exit code, as src/errors.ts has them", () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| /gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(Object.entries(ERROR_CODES).map(([code, { exitCode }]) => [code, exitCode]));
  });

  it("documents every command, and only flags that the command has", async () => {
    const documented = documentedCommands();
    expect(documented.map((d) => d.command)).toEqual(["init", "validate", "build", "pack", "deploy", "subscribe", "unsubscribe", "delete", "status", "sandbox", "doctor"]);
    for (const { command, flags } of documented) {
      const help = (await runCli([command, "--help"])).stdout;
      for (const flag of flags) expect(help, `${command} ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, "m"));
    }
  });
});
