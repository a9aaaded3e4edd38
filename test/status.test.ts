import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusResult } from "../src/pipeline/status.js";
import { runCli } from "./helpers/cli.js";
import { createApplication } from "./helpers/platform-state.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip } from "./helpers/service-zip.js";

/** `c8y-ms status <name>` (platform.md §3.3 #17) against a sandbox without containers. */

let sandbox: SandboxHandle;
let work: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  work = await mkdtemp(join(tmpdir(), "c8y-ms-status-"));
});
afterAll(async () => {
  await sandbox?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("status", () => {
  it("shows the application, its version, subscriptions and the platform's status", async () => {
    const name = `status-${process.pid % 1000}`;
    const zip = await makeServiceZip(join(work, "z"), { apiVersion: "2", name, version: "2.1.0", provider: { name: "c8y-ms tests" }, contextPath: `${name}-api` });
    const [t1 = ""] = sandbox.subtenants;
    expect((await runCli(["deploy", zip, "--subscribe-tenant", t1], { env: sandbox.env() })).exitCode).toBe(0);

    const run = await runCli(["status", name, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json<StatusResult>();
    expect(result.application).toMatchObject({ name, key: name, contextPath: `${name}-api` });
    expect(result.version).toBe("2.1.0");
    expect(result.activeVersionId).toMatch(/^\d+$/);
    // Without containers the sandbox reports Unknown and says why (src/sandbox/runtime.ts).
    expect(result.status).toBe("Unknown");
    expect(result.reason).toContain("--no-containers");
    expect(result.subscriptions.map((s) => s.tenant).sort()).toEqual([sandbox.owner, t1].sort());
    expect(result.instances).toEqual([]);

    const human = await runCli(["status", name], { env: sandbox.env() });
    expect(human.stdout).toMatch(new RegExp(`Application\\s+${name} \\(id ${result.application.id}, key ${name}\\)`));
    expect(human.stdout).toMatch(/Version\s+2\.1\.0 \(binary \d+\)/);
    expect(human.stdout).toMatch(new RegExp(`Context path\\s+/service/${name}-api`));
    expect(human.stdout).toContain(sandbox.owner);
  });

  it("an application without a binary has no version and no status yet", async () => {
    const { name } = await createApplication(sandbox, "bare");
    const run = await runCli(["status", name, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<StatusResult>()).toMatchObject({ version: null, activeVersionId: null, status: null, subscriptions: [], instances: [] });
  });

  it("the read-only user may read the status", async () => {
    const name = `readable-${process.pid % 1000}`;
    const zip = await makeServiceZip(join(work, "r"), { apiVersion: "2", name, version: "1.0.0", provider: { name: "c8y-ms tests" } });
    expect((await runCli(["deploy", zip], { env: sandbox.env() })).exitCode).toBe(0);
    const run = await runCli(["status", name, "--json"], { env: sandbox.env("reader") });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<StatusResult>().version).toBe("1.0.0");
  });
});
