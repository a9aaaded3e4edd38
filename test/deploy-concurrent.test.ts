import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { applicationsNamed, subscriptionsOf } from "./helpers/platform-state.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip } from "./helpers/service-zip.js";

/**
 * Two `c8y-ms deploy` processes of one service at the same time (issue 18): afterwards one
 * application and a consistent state, or a clear conflict for one of them. The sandbox runs
 * creates and uploads of one application one after another.
 */
let sandbox: SandboxHandle;
let work: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  work = await mkdtemp(join(tmpdir(), "c8y-ms-deploy-concurrent-"));
});
afterAll(async () => {
  await sandbox?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const manifest = (name: string, version: string) => ({ apiVersion: "2", name, version, provider: { name: "c8y-ms tests" } });

describe("deploys at once", () => {
  it("of a new service: one application, one active version, subscribed once, every deploy succeeds", async () => {
    const name = `twice-${process.pid % 1000}`;
    const zip = await makeServiceZip(join(work, "same"), manifest(name, "1.0.0"));
    // Three at once, so that two of them usually both find no application and both create it.
    const runs = await Promise.all([0, 1, 2].map(() => runCli(["deploy", zip, "--json"], { env: sandbox.env() })));
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    const apps = await applicationsNamed(sandbox, name);
    expect(apps).toHaveLength(1);
    expect(apps[0]?.activeVersionId).toBeDefined();
    expect((await subscriptionsOf(sandbox, sandbox.owner)).filter((id) => id === apps[0]?.id)).toHaveLength(1);
  });

  it("of one released version with two different images: one lands, the other is refused by the version rule, never both", async () => {
    const name = `race-${process.pid % 1000}`;
    const [first, second] = await Promise.all(["one", "two"].map((variant) => makeServiceZip(join(work, variant), manifest(name, "2.0.0"), { variant })));
    const runs = await Promise.all([first!, second!].map((zip) => runCli(["deploy", zip], { env: sandbox.env() })));
    const codes = runs.map((r) => r.exitCode).sort();
    expect(codes).toEqual([0, 1]);
    expect(runs.find((r) => r.exitCode === 1)?.stderr).toContain("Microservice version 2.0.0 was uploaded before with a different image");
    expect(await applicationsNamed(sandbox, name)).toHaveLength(1);
  });
});
