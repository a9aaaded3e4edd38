import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import { runCli } from "./helpers/cli.js";
import { makeWheel, pathWithoutEngines, sha256File } from "./helpers/engine-free.js";
import { ensureTestRegistry, REGISTRY_PYTHON, startRegistryProxy, TEST_REGISTRY, type RegistryProxy } from "./helpers/registry.js";
import { startHttpProxy } from "./helpers/http-proxy.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeCertificates, startTlsFront } from "./helpers/tls-front.js";
import { tempDir } from "./helpers/tmp.js";
import { describeWithTools } from "./helpers/tools.js";

/**
 * A machine with no container engine at all: PATH has neither docker nor podman, and c8y-ms
 * still packs and deploys (into a sandbox that does not run containers), taking the base
 * image from the registry on 127.0.0.1. What it cannot build is refused before anything is
 * fetched, with the line that stops it. Needs python3 (pip, and the wheels made here), openssl
 * (the private CA) and the test registry (scripts/ensure-registry.sh, which installs
 * docker-registry and skopeo).
 */
let sandbox: SandboxHandle;
let proxy: RegistryProxy;
let path: string;
let bin: string;
const BASE = `BASE_IMAGE=${TEST_REGISTRY}/${REGISTRY_PYTHON}`;

describeWithTools(["python3", "openssl", "docker-registry"], "--engine none on a machine without a container engine", () => {
  beforeAll(async () => {
    await ensureTestRegistry();
    proxy = await startRegistryProxy();
    sandbox = await startSandbox();
    bin = await mkdtemp(join(tmpdir(), "c8y-ms-noengine-"));
    path = await pathWithoutEngines(join(bin, "bin"));
  });
  afterAll(async () => {
    await sandbox?.stop();
    await proxy?.stop();
    if (bin) await rm(bin, { recursive: true, force: true });
  });

  async function python(name: string): Promise<string> {
    const cwd = await tempDir();
    const init = await runCli(["init", name, "--template", "python", "--no-install", "--no-git"], { cwd });
    expect(init.exitCode, init.stderr).toBe(0);
    return join(cwd, name);
  }

  describe("without docker or podman on PATH", () => {
    it("deploy says it builds without an engine, packs and uploads a zip that validate passes", async () => {
      const project = await python("noengine-svc");
      const run = await runCli(["deploy", "--build-arg", BASE, "--json"], { cwd: project, env: { ...sandbox.env(), PATH: path, XDG_CACHE_HOME: await tempDir() } });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr.split("\n")[0]).toBe("⚠ No container engine answers (docker is not installed; podman is not installed): c8y-ms builds the image itself, as with --engine none.");
      expect(run.json<DeployResult>()).toMatchObject({ application: { name: "noengine-svc" }, uploaded: true });
      const zip = join(project, "dist", "noengine-svc-1.0.0-SNAPSHOT.zip");
      const validate = await runCli(["validate", zip, "--json"], { env: { PATH: path } });
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0);
    });

    it("build writes a docker-archive, and the same sources give the same bytes", async () => {
      const project = await python("noengine-same");
      const env = { PATH: path, XDG_CACHE_HOME: await tempDir() };
      const digests: string[] = [];
      for (let i = 0; i < 2; i++) {
        const run = await runCli(["build", "--build-arg", BASE, "--json"], { cwd: project, env });
        expect(run.exitCode, run.stderr).toBe(0);
        const result = run.json<{ file: string; engine: string; os: string; architecture: string }>();
        expect(result).toMatchObject({ file: join(project, "dist", "noengine-same-1.0.0-SNAPSHOT.image.tar"), engine: "none", os: "linux", architecture: "amd64" });
        digests.push(await sha256File(result.file));
      }
      expect(digests[0]).toBe(digests[1]);
    });

    it("doctor warns, not fails: builds fall back to --engine none", async () => {
      const run = await runCli(["doctor", "--json"], { env: { ...sandbox.env(), PATH: path } });
      const checks = run.json<{ checks: { name: string; status: string; detail: string }[] }>().checks;
      expect(checks.find((c) => c.name === "Container engine")).toMatchObject({ status: "warn", detail: expect.stringContaining("--engine none") });
      // C8Y_MS_ENGINE=none, as a CI job without an engine sets it, is understood by doctor too.
      const chosen = await runCli(["doctor", "--json"], { env: { ...sandbox.env(), PATH: path, C8Y_MS_ENGINE: "none" } });
      expect(chosen.json<{ checks: { name: string; status: string }[] }>().checks.find((c) => c.name === "Container engine")).toMatchObject({ status: "skip" });
    });

    it("--engine docker still asks for docker", async () => {
      const project = await python("noengine-docker");
      const run = await runCli(["pack", "--engine", "docker"], { cwd: project, env: { PATH: path } });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("docker is not installed.");
    });
  });

  describe("a registry behind HTTPS with a private CA, through a proxy", () => {
    it("is reached through HTTPS_PROXY, trusting NODE_EXTRA_CA_CERTS; without the CA the fix is named", async () => {
      const certificates = await makeCertificates(await tempDir());
      const front = await startTlsFront(`http://${TEST_REGISTRY}`, certificates);
      const httpProxy = await startHttpProxy();
      try {
        const project = await python("noengine-tls");
        const base = `BASE_IMAGE=${new URL(front.url).host}/${REGISTRY_PYTHON}`;
        const env = { PATH: path, HTTPS_PROXY: httpProxy.url, XDG_CACHE_HOME: await tempDir() };
        const untrusted = await runCli(["build", "--build-arg", base], { cwd: project, env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
        expect(untrusted.exitCode).toBe(1);
        expect(untrusted.stderr).toContain("NODE_EXTRA_CA_CERTS");
        const trusted = await runCli(["build", "--build-arg", base], { cwd: project, env: { ...env, NODE_EXTRA_CA_CERTS: certificates.caFile } });
        expect(trusted.exitCode, trusted.stderr).toBe(0);
        expect(httpProxy.requests).toContainEqual({ method: "CONNECT", target: new URL(front.url).host, authorized: true });
      } finally {
        await httpProxy.stop();
        await front.stop();
      }
    });
  });

  describe("what --engine none cannot build", () => {
    it("a RUN in the final stage stops at its line, before the registry is asked", async () => {
      const project = await python("noengine-run");
      const dockerfile = join(project, "Dockerfile");
      await writeFile(dockerfile, (await readFile(dockerfile, "utf8")).replace("COPY app ./app", "COPY app ./app\nRUN apt-get update"));
      const before = proxy.requests.length;
      const run = await runCli(["pack", "--engine", "none", "--build-arg", `BASE_IMAGE=${proxy.host}/${REGISTRY_PYTHON}`], { cwd: project, env: { PATH: path, XDG_CACHE_HOME: await tempDir() } });
      expect(run.exitCode).toBe(3);
      const line = (await readFile(dockerfile, "utf8")).split("\n").indexOf("RUN apt-get update") + 1;
      expect(run.stderr).toContain(`${dockerfile}:${line}: RUN is not supported without a container engine`);
      expect(run.stderr).toContain("--engine docker");
      expect(proxy.requests.length).toBe(before);
    });

    it("a Node add-on built for macOS is refused with its name and the fix", async () => {
      const project = await tempDir({
        "cumulocity.json": JSON.stringify({ apiVersion: "2", name: "noengine-addon", version: "1.0.0", provider: { name: "t" }, isolation: "MULTI_TENANT" }),
        Dockerfile: "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY node_modules ./node_modules\nEXPOSE 80\nCMD [\"node\"]\n",
        "node_modules/fast/build/Release/fast.node": Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      });
      const run = await runCli(["pack", "--engine", "none", "--build-arg", BASE], { cwd: project, env: { PATH: path, XDG_CACHE_HOME: await tempDir() } });
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toContain("/app/node_modules/fast/build/Release/fast.node is a macOS (Mach-O) file");
      expect(run.stderr).toContain("linux/amd64");
    });

    it("a platform wheel that is not manylinux x86_64 is refused by name", async () => {
      const project = await python("noengine-wheel");
      await mkdir(join(project, "wheels"));
      const wheel = await makeWheel(join(project, "wheels"), "fastthing", "cp311-cp311-macosx_11_0_arm64");
      await writeFile(join(project, "requirements.txt"), `./wheels/${wheel.split("/").at(-1)}\n`);
      const dockerfile = join(project, "Dockerfile");
      await writeFile(dockerfile, (await readFile(dockerfile, "utf8")).replace("COPY app ./app", "RUN pip install --no-cache-dir --target /app/packages -r requirements.txt\nCOPY app ./app"));
      const run = await runCli(["pack", "--engine", "none", "--build-arg", BASE], { cwd: project, env: { PATH: path, XDG_CACHE_HOME: await tempDir() } });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("fastthing-1.0-cp311-cp311-macosx_11_0_arm64.whl is not a supported wheel on this platform");
      expect(run.stderr).toContain("manylinux x86_64");
    });
  });
});
