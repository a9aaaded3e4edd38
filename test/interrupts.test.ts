import { readFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellQuote } from "../src/exec.js";
import { spawnCli, runCli, type CliProcess } from "./helpers/cli.js";
import { recordFigure } from "./helpers/figures.js";
import { writeSparseImageTar } from "./helpers/images.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip } from "./helpers/service-zip.js";
import { tempDir } from "./helpers/tmp.js";
import { writeLargeStoredZip } from "./hostile/archives.js";
import { INTERRUPT_SCENARIOS, SIGNALS } from "./hostile/interrupts.js";

/**
 * Ctrl-C and SIGTERM with real signals on the spawned CLI, during the long steps that need no
 * container engine (interrupts.docker.test.ts has build and save): exit 130 or 143, one line
 * saying so (and, for deploy, what the platform holds now), no stack trace, no partial file,
 * no temporary directory. Then the machine's limits: a file size limit and a full disk during
 * pack, and a reader that goes away.
 */
const MANIFEST = { apiVersion: "2", name: "interrupted", version: "1.0.0", provider: { name: "c8y-ms tests" }, replicas: 2 };

interface Project {
  dir: string;
  tmp: string;
}

async function project(files: Record<string, string> = {}): Promise<Project> {
  const dir = await tempDir({ "cumulocity.json": JSON.stringify(MANIFEST), ...files });
  const tmp = join(dir, ".tmp");
  await mkdir(tmp);
  return { dir, tmp };
}

/** Resolves once `text` is on the run's stderr. */
function stderrShows(run: CliProcess, text: string | RegExp): Promise<void> {
  let seen = "";
  return new Promise((resolve) => {
    run.child.stderr!.on("data", (chunk: Buffer) => {
      seen += String(chunk);
      if (typeof text === "string" ? seen.includes(text) : text.test(seen)) resolve();
    });
  });
}

/** Resolves once the process has read `bytes` from disk: it is in the middle of its work. */
async function hasRead(pid: number, bytes: number): Promise<void> {
  await expect
    .poll(async () => Number(/rchar: (\d+)/.exec(await readFile(`/proc/${pid}/io`, "utf8").catch(() => ""))?.[1] ?? 0), { timeout: 60_000, interval: 50 })
    .toBeGreaterThan(bytes);
}

function expectInterrupted(stderr: string, signal: string): void {
  expect(stderr).toMatch(signal === "SIGTERM" ? /✖ (Interrupted|Terminated)/ : /✖ Interrupted/);
  expect(stderr).not.toMatch(/Unexpected error|\n\s+at /);
}

describe(INTERRUPT_SCENARIOS.validate, () => {
  it.each(SIGNALS)("%s: exit %i, at once, with nothing written", async (signal, code) => {
    const p = await project();
    await writeLargeStoredZip(join(p.dir, "big.zip"), 3 * 1024 * 1024 * 1024);
    const run = spawnCli(["validate", "big.zip"], { cwd: p.dir, env: { TMPDIR: p.tmp } });
    await hasRead(run.child.pid!, 64 * 1024 * 1024);
    run.child.kill(signal);
    const result = await run.result;
    expect(result.exitCode).toBe(code);
    expectInterrupted(result.stderr, signal);
    expect((await readdir(p.dir)).sort()).toEqual([".tmp", "big.zip", "cumulocity.json"]);
    expect(await readdir(p.tmp)).toEqual([]);
    recordFigure("interrupts-handled", 1);
  });
});

describe(INTERRUPT_SCENARIOS.zip, () => {
  it.each(SIGNALS)("%s: exit %i, no zip, no temporary files", async (signal, code) => {
    const p = await project();
    await writeSparseImageTar(join(p.dir, "big.tar"), 1024 * 1024 * 1024);
    const run = spawnCli(["pack", "--image-tar", "big.tar", "--compression-level", "9"], { cwd: p.dir, env: { TMPDIR: p.tmp } });
    await stderrShows(run, "Zipping");
    run.child.kill(signal);
    const result = await run.result;
    expect(result.exitCode).toBe(code);
    expectInterrupted(result.stderr, signal);
    expect((await readdir(p.dir)).sort()).toEqual([".tmp", "big.tar", "cumulocity.json"]);
    expect(await readdir(p.tmp)).toEqual([]);
    recordFigure("interrupts-handled", 1);
  });
});

describe("deploy, interrupted", () => {
  let sandbox: SandboxHandle;
  let count = 0;
  beforeAll(async () => {
    sandbox = await startSandbox({ faults: true });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  const zipNamed = async (prefix: string) => {
    const name = `${prefix}-${process.pid % 1000}-${++count}`;
    const dir = await tempDir();
    return { name, zip: await makeServiceZip(dir, { ...MANIFEST, name }, { variant: name }) };
  };
  const application = async (name: string) =>
    ((await (await sandbox.fetch(`/application/applications?name=${name}`)).json()) as { applications: { id: string; activeVersionId?: string }[] }).applications[0];

  describe(INTERRUPT_SCENARIOS.upload, () => {
    it.each(SIGNALS)("%s: exit %i, nothing lands, and it says what the platform holds", async (signal, code) => {
      const { name, zip } = await zipNamed("upload");
      await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", delayMs: 20_000, times: 1 }]);
      const run = spawnCli(["deploy", zip], { env: sandbox.env() });
      await stderrShows(run, "Uploading");
      run.child.kill(signal);
      const result = await run.result;
      await sandbox.clearFaults();
      expect(result.exitCode).toBe(code);
      expectInterrupted(result.stderr, signal);
      const app = await application(name);
      expect(app?.activeVersionId).toBeUndefined();
      expect(result.stderr).toMatch(new RegExp(`✖ Interrupted: (application ${name} \\(id ${app!.id}\\) was created and has no binary yet|the zip was sent to ${name} .* may or may not be active)\\.`));
      expect(result.stderr).toContain(`\`c8y-ms status ${name}\` shows what the platform has; deploy again to finish.`);
      recordFigure("interrupts-handled", 1);
    });
  });

  describe(INTERRUPT_SCENARIOS.wait, () => {
    it.each(SIGNALS)("%s: exit %i, and it says the upload landed and the platform goes on", async (signal, code) => {
      const { name, zip } = await zipNamed("wait");
      const run = spawnCli(["deploy", zip, "--wait"], { env: sandbox.env() });
      await stderrShows(run, "Waiting up to");
      run.child.kill(signal);
      const result = await run.result;
      expect(result.exitCode).toBe(code);
      expectInterrupted(result.stderr, signal);
      const app = await application(name);
      expect(app?.activeVersionId).toBeDefined();
      expect(result.stderr).toContain(`✖ Interrupted: ${name} 1.0.0 was uploaded (application ${app!.id}) and subscribed by ${sandbox.owner}; the platform goes on starting it.`);
      recordFigure("interrupts-handled", 1);
    });
  });
});

describe("the machine's limits during pack", () => {
  it("a file size limit (ulimit -f): exit 1, the cause and the fix, no partial zip", async () => {
    const p = await project();
    await writeSparseImageTar(join(p.dir, "image.tar"), 8 * 1024 * 1024);
    // 2048 blocks of 1 KiB: the zip of an 8 MiB image, stored, cannot fit.
    const run = await runCli(["pack", "--image-tar", "image.tar", "--compression-level", "0"], {
      cwd: p.dir,
      env: { TMPDIR: p.tmp },
      wrap: (command) => ["bash", ["-c", `ulimit -f 2048; exec ${command.map(shellQuote).join(" ")}`]],
    });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/✖ Cannot write \S+interrupted-1\.0\.0\.zip: the file outgrew the file size limit \(ulimit -f\)\. Nothing was kept\./);
    expect(run.stderr).toContain("Raise the limit (`ulimit -f unlimited`)");
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    expect((await readdir(p.dir)).sort()).toEqual([".tmp", "cumulocity.json", "image.tar"]);
    expect(await readdir(p.tmp)).toEqual([]);
  });

  it("a full disk: exit 1, the cause and the fix, no partial zip", async () => {
    const p = await project();
    await writeSparseImageTar(join(p.dir, "image.tar"), 8 * 1024 * 1024);
    const out = join(p.dir, "small-disk");
    await mkdir(out);
    // A 1 MiB file system of our own, in a user and mount namespace (no root needed).
    const script = (command: string[]) =>
      `mount -t tmpfs -o size=1m none ${shellQuote(out)} && ${command.map(shellQuote).join(" ")}; code=$?; echo "left: [$(ls -A ${shellQuote(out)})]"; exit $code`;
    const run = await runCli(["pack", "--image-tar", "image.tar", "--compression-level", "0", "--output", join(out, "svc.zip")], {
      cwd: p.dir,
      env: { TMPDIR: p.tmp },
      wrap: (command) => ["unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", script(command)]],
    });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/✖ Cannot write \S+small-disk\/svc\.zip: the disk is full\. Nothing was kept\./);
    expect(run.stderr).toContain("Free some space");
    expect(run.stdout).toContain("left: []");
    expect(await readdir(p.tmp)).toEqual([]);
  });

  it("a reader that goes away (c8y-ms ... | true): no EPIPE crash, the exit code of the command", async () => {
    const dir = await tempDir({ "cumulocity.json": JSON.stringify(MANIFEST) });
    await writeFile(join(dir, "x"), "");
    const run = await runCli(["deploy", "--help"], {
      cwd: dir,
      // `true` exits at once; the CLI starts after it and writes into a pipe nobody reads.
      wrap: (command) => ["bash", ["-c", `(sleep 0.3; ${command.map(shellQuote).join(" ")}; echo "exit: $?" >&2) | true`]],
    });
    expect(run.stderr).toContain("exit: 0");
    expect(run.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});
