import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/errors.js";
import { ARGV_PROPERTY_RUNS, ARGV_SPAWNED } from "./hostile/argv.js";
import { DEPLOY_SAMPLE, HOSTILE_ARCHIVES } from "./hostile/archives.js";
import { INTERRUPT_SCENARIOS, SIGNALS } from "./hostile/interrupts.js";
import { MANIFEST_ARBITRARIES, MANIFEST_PROPERTY_RUNS, MANIFEST_SPAWNED_PER_GENERATOR } from "./hostile/manifests.js";
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

  it("states the reliability corpus as the code holds it, and the figures a full run measures", () => {
    const section = readme.split(/^## Reliability$/m)[1]?.split(/^## /m)[0] ?? "";
    const row = (label: string) => {
      const cells = new RegExp(`^\\| ${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\| ([\\d,]+) \\|`, "m").exec(section);
      expect(cells, label).not.toBeNull();
      return Number(cells![1]!.replaceAll(",", ""));
    };
    const manifests = Object.values(MANIFEST_PROPERTY_RUNS).reduce((sum, n) => sum + n, 0);
    const spawned = Object.keys(MANIFEST_ARBITRARIES).length * MANIFEST_SPAWNED_PER_GENERATOR + ARGV_SPAWNED;
    const zips = HOSTILE_ARCHIVES.filter((c) => c.kind === "zip").length;
    expect(row("generated manifests, in-process")).toBe(manifests);
    expect(row("generated command lines, in-process")).toBe(ARGV_PROPERTY_RUNS);
    expect(row("spawned sample of both")).toBe(spawned);
    expect(row("hostile archives")).toBe(HOSTILE_ARCHIVES.length);
    expect(section).toContain(`${zips} zips (`);
    expect(section).toContain(`${HOSTILE_ARCHIVES.length - zips} image tars (`);
    expect(section).toContain(`${DEPLOY_SAMPLE.length} of them by \`deploy\``);
    expect(row("interrupts")).toBe(Object.keys(INTERRUPT_SCENARIOS).length * SIGNALS.length);
    // What a full run records of these is fixed by the corpus; the rest depends on the whole suite.
    expect(row("generated inputs tried")).toBe(manifests + ARGV_PROPERTY_RUNS + spawned);
    expect(row("hostile archives refused")).toBe(HOSTILE_ARCHIVES.length);
    expect(row("interrupts handled")).toBe(Object.keys(INTERRUPT_SCENARIOS).length * SIGNALS.length);
    expect(row("secrets leaked")).toBe(0);
    expect(pkg.scripts.figures).toBe("node scripts/figures.mjs");
  });
});
