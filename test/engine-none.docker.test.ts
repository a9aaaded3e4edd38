import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import { runCli } from "./helpers/cli.js";
import { removeImages } from "./helpers/echo-service.js";
import { addWheelRequirement, makeWheel, sha256File } from "./helpers/engine-free.js";
import { PYTHON_BASE_IMAGE } from "./helpers/paths.js";
import { ensureTestRegistry, REGISTRY_NODE, REGISTRY_PYTHON, startRegistryProxy, startTokenRegistry, type RegistryProxy } from "./helpers/registry.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * `--engine none` end to end: the templates built by c8y-ms itself from base images in a
 * registry on 127.0.0.1 (scripts/ensure-registry.sh), deployed into the sandbox, which loads
 * and runs them in Docker, and called through its gateway. Docker here only runs what
 * c8y-ms built; the builds themselves use no engine.
 */
const suffix = `${process.pid % 10000}`;
const images: string[] = [];
let sandbox: SandboxHandle;
let proxy: RegistryProxy;

beforeAll(async () => {
  await ensureTestRegistry();
  proxy = await startRegistryProxy();
  sandbox = await startSandbox({ containers: true });
});
afterAll(async () => {
  await sandbox?.stop();
  await proxy?.stop();
  await removeImages(...images);
});

async function initProject(template: "node" | "python", name: string): Promise<string> {
  const cwd = await tempDir();
  const init = await runCli(["init", name, "--template", template, "--no-install", "--no-git"], { cwd });
  expect(init.exitCode, init.stderr).toBe(0);
  const project = join(cwd, name);
  const manifest = JSON.parse(await readFile(join(project, "cumulocity.json"), "utf8")) as { version: string };
  images.push(`${name}:${manifest.version}`);
  return project;
}

describe("the node template", () => {
  it("deploys built without an engine, answers through the gateway, and builds again to the same bytes without a registry request", async () => {
    const name = `none-node-${suffix}`;
    const project = await initProject("node", name);
    const cache = await tempDir();
    const env = { ...sandbox.env(), XDG_CACHE_HOME: cache };
    const base = `BASE_IMAGE=${proxy.host}/${REGISTRY_NODE}`;

    const deploy = await runCli(["deploy", "--engine", "none", "--build-arg", base, "--wait", "--timeout", "150", "--json"], { cwd: project, env });
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    expect(deploy.json<DeployResult>()).toMatchObject({ application: { name }, uploaded: true });
    expect(deploy.stderr).toContain("without a container engine");
    expect(deploy.stderr).toContain(`✔ ${name} is Up`);
    expect((await sandbox.fetch(`/service/${name}/health`)).status).toBe(200);
    const hello = await sandbox.fetch(`/service/${name}/hello`);
    expect(hello.status, await hello.clone().text()).toBe(200);

    // Two more builds: identical archives, and not one request to the registry.
    const seen = proxy.requests.length;
    expect(seen).toBeGreaterThan(0);
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      const build = await runCli(["build", "--engine", "none", "--build-arg", base, "--json"], { cwd: project, env });
      expect(build.exitCode, build.stderr).toBe(0);
      const result = build.json<{ file: string; id: string; engine: string }>();
      expect(result.engine).toBe("none");
      digests.push(await sha256File(result.file));
    }
    expect(digests[0]).toBe(digests[1]);
    expect(proxy.requests.length).toBe(seen);
  });
});

describe("the python template", () => {
  it("with a pure-Python wheel installed into a target directory, deploys, runs and answers through the gateway", async () => {
    const name = `none-py-${suffix}`;
    const project = await initProject("python", name);
    await mkdir(join(project, "wheels"));
    const wheel = await makeWheel(join(project, "wheels"), "c8ywheeltest");
    await addWheelRequirement(project, wheel, "c8ywheeltest");

    const run = await runCli(["deploy", "--engine", "none", "--build-arg", `BASE_IMAGE=${proxy.host}/${REGISTRY_PYTHON}`, "--wait", "--timeout", "150", "--json"], { cwd: project, env: { ...sandbox.env(), XDG_CACHE_HOME: await tempDir() } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain("Installing requirements.txt for linux/amd64 (pip)");
    expect((await sandbox.fetch(`/service/${name}/health`)).status).toBe(200);
  });

  it("has the config Docker gives the same Dockerfile", async () => {
    const name = `none-cfg-${suffix}`;
    const project = await initProject("python", name);
    const ours = await runCli(["build", "--engine", "none", "--build-arg", `BASE_IMAGE=docker-daemon:${PYTHON_BASE_IMAGE}`, "--tag", `${name}:ours`, "--json"], { cwd: project, env: { XDG_CACHE_HOME: await tempDir() } });
    expect(ours.exitCode, ours.stderr).toBe(0);
    images.push(`${name}:ours`, `${name}:docker`);
    await execa("docker", ["load", "-i", ours.json<{ file: string }>().file]);
    await execa("docker", ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${PYTHON_BASE_IMAGE}`, "-t", `${name}:docker`, project]);
    const config = async (ref: string) => JSON.parse((await execa("docker", ["image", "inspect", "--format", "{{json .Config}}", ref])).stdout) as Record<string, unknown>;
    const [a, b] = [await config(`${name}:ours`), await config(`${name}:docker`)];
    for (const field of ["Env", "Cmd", "Entrypoint", "WorkingDir", "ExposedPorts", "User"]) expect(a[field], field).toEqual(b[field]);
    // The same files under /app, with the same modes.
    const files = async (ref: string) => (await execa("docker", ["run", "--rm", "--network", "host", "--entrypoint", "find", ref, "/app", "-exec", "stat", "-c", "%n %a %u:%g %s", "{}", "+"])).stdout.split("\n").sort();
    expect(await files(`${name}:ours`)).toEqual(await files(`${name}:docker`));
  });
});

describe("base images", () => {
  it("from a registry that wants a token, as Docker Hub does", async () => {
    const registry = await startTokenRegistry();
    try {
      const project = await initProject("python", `none-token-${suffix}`);
      const run = await runCli(["build", "--engine", "none", "--build-arg", `BASE_IMAGE=${registry.host}/${REGISTRY_PYTHON}`, "--json"], { cwd: project, env: { XDG_CACHE_HOME: await tempDir() } });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(registry.tokens.some((query) => query.includes("scope=repository%3Ac8y-ms-base%2Fpython%3Apull"))).toBe(true);
    } finally {
      await registry.stop();
    }
  });

  it("a layer that does not match its digest is refused, and nothing of it is cached", async () => {
    const tampering = await startRegistryProxy(undefined, { tamper: true });
    try {
      const project = await initProject("python", `none-bad-${suffix}`);
      const cache = await tempDir();
      const run = await runCli(["pack", "--engine", "none", "--build-arg", `BASE_IMAGE=${tampering.host}/${REGISTRY_PYTHON}`], { cwd: project, env: { XDG_CACHE_HOME: cache } });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/The layer sha256:[0-9a-f]{64} (arrived as sha256:[0-9a-f]{64}.*: the bytes do not match their digest|cannot be read)/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      const cached = await readdir(join(cache, "c8y-ms", "blobs", "sha256")).catch(() => [] as string[]);
      // The config may be there (it matched); no layer is.
      expect(cached.length).toBeLessThanOrEqual(1);
      expect(await readdir(join(project, "dist")).catch(() => [])).toEqual([]);
    } finally {
      await tampering.stop();
    }
  });
});
