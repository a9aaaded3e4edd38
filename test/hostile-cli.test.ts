import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { recordFigure } from "./helpers/figures.js";
import { tempDir } from "./helpers/tmp.js";
import { ARGV_SPAWNED, SECRET, spawnableArgv } from "./hostile/argv.js";
import { MANIFEST_ARBITRARIES, MANIFEST_SPAWNED_PER_GENERATOR } from "./hostile/manifests.js";

/**
 * The spawned sample of the hostile inputs the unit property tests run by the thousand
 * (src/manifest/hostile.property.test.ts, src/cli.property.test.ts): the built CLI, a 256 MB
 * heap (more memory crashes the run instead of passing it), a fixed seed so a failure repeats.
 * Every run ends with a documented exit code and its message, never an unexpected error.
 */
const BOUNDED = { NODE_OPTIONS: "--max-old-space-size=256" };
const SEED = 20_251_203;

const manifests = Object.entries(MANIFEST_ARBITRARIES).flatMap(([name, arbitrary]) =>
  fc.sample(arbitrary, { numRuns: MANIFEST_SPAWNED_PER_GENERATOR, seed: SEED }).map((input, i) => [`${name} #${i + 1}`, input] as const),
);

describe("validate --json on hostile manifests (spawned sample)", () => {
  it.each(manifests)("%s", async (_, input) => {
    const dir = await tempDir();
    await writeFile(join(dir, input.file), input.text);
    const run = await runCli(["validate", input.file, "--json"], { cwd: dir, env: BOUNDED });
    expect([0, 3], run.stderr).toContain(run.exitCode);
    const result = run.json<{ valid: boolean; errors: unknown[] }>();
    expect(result.valid).toBe(run.exitCode === 0);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    recordFigure("generated-inputs", 1);
  });
});

describe("any command line (spawned sample)", () => {
  const lines = fc.sample(spawnableArgv, { numRuns: ARGV_SPAWNED, seed: SEED });
  it.each(lines.map((args) => [JSON.stringify(args), args] as const))("%s", async (_, args) => {
    const dir = await tempDir();
    const run = await runCli(args, { cwd: dir, env: { ...BOUNDED, C8Y_PASSWORD: SECRET }, secrets: [SECRET], timeout: 120_000 });
    expect([0, 1, 2, 3, 4], run.stderr).toContain(run.exitCode);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    if (run.exitCode !== 0) expect(run.stderr).toMatch(/^✖ /m);
    recordFigure("generated-inputs", 1);
  });
});
