import { randomInt } from "node:crypto";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { spawnCli, type CliProcess } from "./helpers/cli.js";
import { recordFigure } from "./helpers/figures.js";
import { NODE_BASE_IMAGE } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";
import { INTERRUPT_SCENARIOS, SIGNALS } from "./hostile/interrupts.js";

/**
 * Signals while a container engine works for the CLI: the engine's process must stop with
 * it. A build is made slow for real (a RUN step that sleeps, on the offline base image); a
 * save cannot be, so a stand-in `docker` on PATH sleeps in `save` as a big image would.
 */
const MANIFEST = { apiVersion: "2", name: "interrupt-build", version: "1.0.0", provider: { name: "c8y-ms tests" }, replicas: 2 };
const tags = new Set<string>();

afterAll(async () => {
  if (tags.size > 0) await execa("docker", ["rmi", "--force", ...tags], { reject: false });
});

/** Process ids whose command line contains `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.replaceAll("\0", " ").includes(marker)) found.push(Number(pid));
  }
  return found;
}

function stderrShows(run: CliProcess, text: string): Promise<void> {
  let seen = "";
  return new Promise((resolve) => {
    run.child.stderr!.on("data", (chunk: Buffer) => {
      seen += String(chunk);
      if (seen.includes(text)) resolve();
    });
  });
}

describe(INTERRUPT_SCENARIOS.build, () => {
  it.each(SIGNALS)("%s: exit %i, and the RUN step the engine was running stops", async (signal, code) => {
    // A duration no other process on the machine sleeps for: its command line finds the step.
    const marker = `37.${randomInt(100_000, 999_999)}`;
    const dir = await tempDir({
      "cumulocity.json": JSON.stringify(MANIFEST),
      Dockerfile: `FROM ${NODE_BASE_IMAGE}\nRUN sleep ${marker}\n`,
    });
    const tag = `interrupt-build:${marker}`;
    tags.add(tag);
    const run = spawnCli(["build", "--tag", tag], { cwd: dir });
    await expect.poll(() => processesWith(`sleep ${marker}`), { timeout: 120_000, interval: 200 }).not.toEqual([]);
    run.child.kill(signal);
    const result = await run.result;
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toMatch(/✖ (Interrupted|Terminated)/);
    expect(result.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    // The engine stops the step when its client goes; give it the moment it takes.
    await expect.poll(() => processesWith(`sleep ${marker}`), { timeout: 30_000, interval: 250 }).toEqual([]);
    expect((await execa("docker", ["image", "ls", "--quiet", tag])).stdout).toBe("");
    recordFigure("interrupts-handled", 1);
  });
});

/** A `docker` on PATH that answers what pack asks and whose `save` writes a little, then sleeps as `marker`. */
async function standInEngine(dir: string, marker: string, ignoreTerm: boolean): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin);
  await writeFile(
    join(bin, "docker"),
    [
      "#!/bin/sh",
      'case "$1" in',
      "  version) echo 27.0.0 ;;",
      '  info) echo "[]" ;;',
      `  image) echo "sha256:${"a".repeat(64)} linux amd64 1000000" ;;`,
      // An ignored signal stays ignored across exec: this save does not stop on SIGTERM.
      `  save) printf partial > "$3"; ${ignoreTerm ? "trap '' TERM; " : ""}exec ${marker} ;;`,
      '  *) echo "unexpected: $*" >&2; exit 1 ;;',
      "esac",
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "docker"), 0o755);
  return bin;
}

describe(INTERRUPT_SCENARIOS.save, () => {
  it.each(SIGNALS)("%s: exit %i, the engine's save stops, nothing is left in the scratch directory", async (signal, code) => {
    const dir = await tempDir({ "cumulocity.json": JSON.stringify({ ...MANIFEST, name: "interrupt-save" }) });
    const tmp = join(dir, ".tmp");
    await mkdir(tmp);
    const marker = `sleep 61.${randomInt(100_000, 999_999)}`;
    const bin = await standInEngine(dir, marker, false);
    const run = spawnCli(["pack", "--image", "slow:1.0.0", "--engine", "docker"], { cwd: dir, env: { PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp } });
    await stderrShows(run, "Saving slow:1.0.0");
    await expect.poll(() => processesWith(marker), { timeout: 30_000, interval: 100 }).not.toEqual([]);
    run.child.kill(signal);
    const result = await run.result;
    expect(result.exitCode).toBe(code);
    expect(result.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    await expect.poll(() => processesWith(marker), { timeout: 10_000, interval: 100 }).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([".tmp", "bin", "cumulocity.json"]);
    recordFigure("interrupts-handled", 1);
  });

  it("an engine that ignores SIGTERM: c8y-ms still ends within its grace, says so (also as JSON), and kills it", async () => {
    const dir = await tempDir({ "cumulocity.json": JSON.stringify({ ...MANIFEST, name: "interrupt-stubborn" }) });
    const tmp = join(dir, ".tmp");
    await mkdir(tmp);
    const marker = `sleep 62.${randomInt(100_000, 999_999)}`;
    const bin = await standInEngine(dir, marker, true);
    const run = spawnCli(["pack", "--image", "slow:1.0.0", "--engine", "docker", "--json"], { cwd: dir, env: { PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp } });
    await stderrShows(run, "Saving slow:1.0.0");
    await expect.poll(() => processesWith(marker), { timeout: 30_000, interval: 100 }).not.toEqual([]);
    run.child.kill("SIGTERM");
    const result = await run.result;
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toContain("✖ Terminated: stopped without waiting for the command to finish.");
    expect(result.json()).toEqual({ error: { code: "INTERRUPTED", message: "Terminated: stopped without waiting for the command to finish.", hint: null } });
    expect(await processesWith(marker)).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  });
});
