import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkArchiveFormat, checkNode, type DoctorResult } from "../src/pipeline/doctor.js";
import type { Exec } from "../src/exec.js";
import { runCli } from "./helpers/cli.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/** `c8y-ms doctor` against the sandbox: every check, and a fix for each one that fails. */

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

const byName = (result: DoctorResult) => Object.fromEntries(result.checks.map((c) => [c.name, c]));

describe("doctor", () => {
  it("passes every check with the sandbox admin and a running engine", async () => {
    const run = await runCli(["doctor", "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stdout).toBe(0);
    const result = run.json<DoctorResult>();
    expect(result.ok).toBe(true);
    const checks = byName(result);
    expect(Object.keys(checks)).toEqual(["Node.js", "Container engine", "Image archive format", "Platform URL", "Credentials", "Permissions"]);
    expect(checks["Node.js"]?.status).toBe("ok");
    expect(checks["Container engine"]?.detail).toMatch(/^(docker|podman) \S+/);
    expect(checks["Platform URL"]?.detail).toContain(sandbox.url);
    expect(checks.Credentials?.detail).toBe(`logged in to tenant ${sandbox.owner} as ${sandbox.owner}/${sandbox.admin.user}`);
    expect(checks.Permissions?.status).toBe("ok");
  });

  it("fails the permission check for the read-only user, with the role to ask for (exit 4: not authorised)", async () => {
    const run = await runCli(["doctor"], { env: sandbox.env("reader") });
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toMatch(/✖ Permissions\s+ROLE_APPLICATION_MANAGEMENT_ADMIN is missing/);
    expect(run.stdout).toContain("fix: Ask a tenant administrator to grant ROLE_APPLICATION_MANAGEMENT_ADMIN");
  });

  it("reports a wrong password as a failed credentials check, keeps going, and exits 4 as every command does for it", async () => {
    const run = await runCli(["doctor", "--json"], { env: { ...sandbox.env(), C8Y_PASSWORD: "not-the-password" } });
    expect(run.exitCode).toBe(4);
    const checks = byName(run.json<DoctorResult>());
    expect(checks["Platform URL"]?.status).toBe("ok");
    expect(checks.Credentials?.status).toBe("fail");
    expect(checks.Credentials?.fix).toContain("C8Y_PASSWORD");
    expect(checks.Permissions?.status).toBe("skip");
  });

  it("names an unreachable URL and what to check, and skips what depends on it", async () => {
    const run = await runCli(["doctor", "--json"], { env: { ...sandbox.env(), C8Y_HOST: "http://127.0.0.1:9" } });
    expect(run.exitCode).toBe(1);
    const checks = byName(run.json<DoctorResult>());
    expect(checks["Platform URL"]?.detail).toContain("Could not reach http://127.0.0.1:9/tenant/loginOptions");
    expect(checks["Platform URL"]?.fix).toContain("C8Y_HOST");
    expect(checks.Credentials?.status).toBe("skip");
  });

  it("exits 4 for missing credentials too, naming what to set", async () => {
    const { C8Y_PASSWORD: _password, ...withoutPassword } = sandbox.env();
    const run = await runCli(["doctor", "--json"], { env: withoutPassword });
    expect(run.exitCode).toBe(4);
    expect(byName(run.json<DoctorResult>()).Credentials).toMatchObject({ status: "fail" });
  });

  it("says how to set a missing URL, without prompting", async () => {
    const run = await runCli(["doctor", "--json"], { env: {} });
    expect(run.exitCode).toBe(1);
    expect(byName(run.json<DoctorResult>())["Platform URL"]).toMatchObject({ status: "fail", detail: "not set" });
  });
});

describe("doctor's checks in isolation", () => {
  it.each([
    ["20.18.1", "ok"],
    ["20.19.0", "ok"],
    ["22.1.0", "ok"],
    ["20.18.0", "fail"],
    ["18.20.4", "fail"],
  ])("Node.js %s is %s", (version, status) => {
    expect(checkNode(version).status).toBe(status);
  });

  const exec = (driverStatus: string): Pick<Exec, "run"> => ({
    run: async () => ({ stdout: driverStatus, stderr: "", tail: [] }),
  });
  const signal = new AbortController().signal;

  it.each([
    ["24.0.7", "[]", "ok", "a docker-archive, the format the platform reads"],
    ["27.3.1", "[]", "ok", "OCI index files"],
    ["28.0.1", "[]", "warn", "newer than 27"],
    ["27.3.1", '[["driver-type","io.containerd.snapshotter.v1"]]', "warn", "containerd image store"],
  ])("docker %s with driver status %s is %s", async (version, driver, status, detail) => {
    const check = await checkArchiveFormat({ name: "docker", command: "docker", version }, { exec: exec(driver) as Exec, signal });
    expect(check.status).toBe(status);
    expect(check.detail).toContain(detail);
    if (status === "warn") expect(check.fix).toContain("c8y-ms pack");
  });

  it("podman save writes a docker-archive", async () => {
    const check = await checkArchiveFormat({ name: "podman", command: "podman", version: "4.3.1" }, { exec: exec("") as Exec, signal });
    expect(check.status).toBe("ok");
  });
});
