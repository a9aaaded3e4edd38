import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import { runCli, spawnCli } from "./helpers/cli.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip } from "./helpers/service-zip.js";

/**
 * What deploy does when the platform or the network misbehaves (sandbox fault injection,
 * TEAM.md part C): retries that are safe, no upload that lands twice, and clear failures.
 */

let sandbox: SandboxHandle;
let small: SandboxHandle;
let work: string;
let count = 0;

beforeAll(async () => {
  [sandbox, small] = await Promise.all([startSandbox({ faults: true }), startSandbox({ args: ["--upload-limit", "256"] })]);
  work = await mkdtemp(join(tmpdir(), "c8y-ms-deploy-faults-"));
});
afterAll(async () => {
  await Promise.all([sandbox?.stop(), small?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  await sandbox.clearFaults();
  await fetch(`${sandbox.url}/__sandbox/requests`, { method: "DELETE" });
});

async function zipNamed(prefix: string): Promise<{ name: string; zip: string }> {
  const name = `${prefix}-${process.pid % 1000}-${++count}`;
  const zip = await makeServiceZip(join(work, `zip-${count}`), { apiVersion: "2", name, version: "1.0.0-SNAPSHOT", provider: { name: "c8y-ms tests" } }, { variant: String(count) });
  return { name, zip };
}

/** The requests the sandbox answered since the test began (faults included). */
async function requests(): Promise<{ method: string; path: string; status: number }[]> {
  return ((await (await fetch(`${sandbox.url}/__sandbox/requests`)).json()) as { requests: { method: string; path: string; status: number }[] }).requests;
}
const uploads = async () => (await requests()).filter((r) => r.method === "POST" && /\/binaries$/.test(r.path));

async function activeVersion(name: string): Promise<string | undefined> {
  const body = (await (await sandbox.fetch(`/application/applications?name=${name}`)).json()) as { applications: { activeVersionId?: string }[] };
  return body.applications[0]?.activeVersionId;
}

describe("transient failures", () => {
  it("retries an upload answered 503, after checking that it did not land", async () => {
    const { name, zip } = await zipNamed("retry503");
    await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", status: 503, times: 1 }]);
    const run = await runCli(["deploy", zip, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>().uploaded).toBe(true);
    expect(run.stderr).toMatch(/POST \/application\/applications\/\d+\/binaries: answered 503; retrying in [\d.]+s \(attempt 2 of 3\)/);
    expect((await uploads()).map((u) => u.status)).toEqual([503, 201]);
    // Between the two, the application was read to see whether the first attempt landed.
    const log = await requests();
    const first = log.findIndex((r) => r.status === 503);
    expect(log.slice(first + 1).some((r) => r.method === "GET" && /^\/application\/applications\/\d+$/.test(r.path))).toBe(true);
    expect(await activeVersion(name)).toBeDefined();
  });

  it("sends the upload again after the connection is reset half way, once it is clear nothing landed", async () => {
    const { name, zip } = await zipNamed("reset");
    const size = (await stat(zip)).size;
    await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", reset: true, afterBytes: Math.floor(size / 2), times: 1 }]);
    const run = await runCli(["deploy", zip, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/binaries: (ECONNRESET|UND_ERR_SOCKET|EPIPE); retrying/);
    expect((await uploads()).filter((u) => u.status === 201)).toHaveLength(1);
    expect(await activeVersion(name)).toBeDefined();
  });

  it("fails cleanly when every attempt is reset, naming the URL and the cause", async () => {
    const { name, zip } = await zipNamed("resets");
    await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", reset: true, afterBytes: 512 }]);
    const run = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/Could not reach http:\/\/127\.0\.0\.1:\d+\/application\/applications\/\d+\/binaries: the connection (was reset|was closed)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await activeVersion(name)).toBeUndefined();
  });

  it("retries reads the platform answers 502 or 504, and a slow platform is waited for", async () => {
    const { zip } = await zipNamed("gateway");
    await sandbox.setFaults([
      { method: "GET", path: "/tenant/currentTenant", status: 502, times: 1 },
      { method: "GET", path: "/application/applications", status: 504, times: 1 },
      { method: "GET", path: "/application/applications", delayMs: 1500, times: 1 },
    ]);
    const run = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain("GET /tenant/currentTenant: answered 502; retrying");
    expect(run.stderr).toContain("GET /application/applications: answered 504; retrying");
  });

  it("honours Retry-After on 429", async () => {
    const { zip } = await zipNamed("busy");
    await sandbox.setFaults([{ method: "POST", path: "/tenant/tenants/*/applications", status: 429, times: 1 }]);
    const run = await runCli(["deploy", zip, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/POST \/tenant\/tenants\/t\d+\/applications: answered 429; retrying/);
    expect(run.json<DeployResult>().subscriptions[0]?.status).toBe("subscribed");
  });

  it("gives up on a platform that stays unavailable, with exit 1 and what to do", async () => {
    const { zip } = await zipNamed("down");
    await sandbox.setFaults([{ path: "/tenant/currentTenant", status: 503 }]);
    const run = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("The platform is unavailable: read the current tenant answered 503");
    expect(run.stderr).toContain("Try again in a few minutes");
  });
});

describe("Ctrl-C", () => {
  it("stops an upload in flight with exit 130, and nothing lands", async () => {
    const { name, zip } = await zipNamed("interrupted");
    // The platform takes its time with the upload, so Ctrl-C comes while it is in flight.
    await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", delayMs: 20_000, times: 1 }]);
    const { child, result: finished } = spawnCli(["deploy", zip], { env: sandbox.env() });
    let stderr = "";
    await new Promise<void>((resolve) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += String(chunk);
        if (stderr.includes("Uploading")) resolve();
      });
    });
    child.kill("SIGINT");
    const result = await finished;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain("Interrupted");
    expect(String(result.stderr)).not.toContain(sandbox.admin.password);
    expect(await activeVersion(name)).toBeUndefined();
  });
});

describe("the platform's upload limit", () => {
  it("413 names the 500 MB limit and how to shrink the image", async () => {
    const { zip } = await zipNamed("large");
    const run = await runCli(["deploy", zip], { env: small.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("The platform refused the upload as too large (413)");
    expect(run.stderr).toContain("500 MB");
    expect(run.stderr).toContain("multi-stage build");
  });
});
