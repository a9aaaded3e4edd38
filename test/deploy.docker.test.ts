import { execa } from "execa";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import type { StatusResult } from "../src/pipeline/status.js";
import { runCli } from "./helpers/cli.js";
import { buildEcho, ECHO_DIR, removeImages, zipEcho } from "./helpers/echo-service.js";
import { NODE_BASE_IMAGE } from "./helpers/paths.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/**
 * `deploy --wait` with a real container engine: the sandbox runs what was uploaded, and deploy
 * waits until the platform reports it Up, or fails with the reason and the service's last
 * log lines (landscape.md complaint 12).
 */

const tag = `${process.pid}-${Date.now() % 100000}`;
const ECHO_IMAGE = `c8y-ms-test/deploy-echo:${tag}`;
const CRASH_IMAGE = `c8y-ms-test/deploy-crash:${tag}`;
const PROJECT_NAME = `proj-echo-${process.pid % 1000}`;
/** pack tags the image it builds `<name>:<version>`. */
const PROJECT_IMAGE = `${PROJECT_NAME}:1.0.0`;

let sandbox: SandboxHandle;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "c8y-ms-deploy-docker-"));
  await writeFile(
    join(work, "Dockerfile"),
    `FROM ${NODE_BASE_IMAGE}\nEXPOSE 80\nCMD ["node", "-e", "console.log('crash-demo starting'); console.error('fatal: CONFIG_URL is not set'); process.exit(3)"]\n`,
  );
  await Promise.all([
    buildEcho(ECHO_IMAGE),
    execa("docker", ["build", "--network", "host", "--label", "c8y-ms-test=1", "-t", CRASH_IMAGE, work]),
  ]);
  sandbox = await startSandbox({ containers: true });
});
afterAll(async () => {
  await sandbox?.stop();
  await removeImages(ECHO_IMAGE, CRASH_IMAGE, PROJECT_IMAGE);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("deploy a project directory", () => {
  it("packs, uploads, subscribes and waits until Up, as a CI job with four variables would", async () => {
    const project = join(work, "project");
    await cp(ECHO_DIR, project, { recursive: true });
    const manifest = JSON.parse(await readFile(join(project, "cumulocity.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(project, "cumulocity.json"), JSON.stringify({ ...manifest, name: PROJECT_NAME, version: "1.0.0" }, null, 2));

    const run = await runCli(["deploy", "--build-arg", `BASE_IMAGE=${NODE_BASE_IMAGE}`, "--wait", "--timeout", "150", "--json"], { cwd: project, env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json<DeployResult>();
    expect(result).toMatchObject({ application: { name: PROJECT_NAME, key: PROJECT_NAME, contextPath: PROJECT_NAME }, version: "1.0.0", uploaded: true });
    expect(result.subscriptions).toEqual([{ tenant: sandbox.owner, status: "subscribed" }]);
    expect(run.stderr).toContain(`Packed dist/${PROJECT_NAME}-1.0.0.zip`);
    expect(run.stderr).toContain(`✔ ${PROJECT_NAME} is Up`);
    expect((await sandbox.fetch(`/service/${PROJECT_NAME}/health`)).status).toBe(200);

    // Nothing changed: pack reuses the zip, the dry run plans an upload into the same application.
    const dry = await runCli(["deploy", "--build-arg", `BASE_IMAGE=${NODE_BASE_IMAGE}`, "--dry-run", "--json"], { cwd: project, env: sandbox.env() });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.json<DeployResult>().plan).toMatchObject({ application: "keep", subscribe: [{ tenant: sandbox.owner, already: true }] });
    expect(dry.stderr).toContain("is up to date");
  });
});

describe("deploy --wait", () => {
  it("waits until the service is Up; status then shows its instance, and the gateway reaches it", async () => {
    const name = `wait-echo-${process.pid % 1000}`;
    const zip = await zipEcho(ECHO_IMAGE, join(work, "echo"), { name, version: "1.0.0" });
    const run = await runCli(["deploy", zip, "--wait", "--timeout", "150", "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>()).toMatchObject({ application: { name }, uploaded: true, subscriptions: [{ tenant: sandbox.owner, status: "subscribed" }] });
    expect(run.stderr).toContain(`Waiting up to 150s for ${name} to report Up`);
    expect(run.stderr).toContain(`✔ ${name} is Up`);

    const status = await runCli(["status", name, "--json"], { env: sandbox.env() });
    const result = status.json<StatusResult>();
    expect(result.status).toBe("Up");
    expect(result.instances).toHaveLength(1);
    expect(result.instances[0]).toMatchObject({ running: true, ready: true });

    const health = await sandbox.fetch(`/service/${name}/health`);
    expect(health.status).toBe(200);
  });

  it("fails when the service keeps crashing, with the platform's state and the last log lines", async () => {
    const name = `wait-crash-${process.pid % 1000}`;
    const zip = await zipEcho(CRASH_IMAGE, join(work, "crash"), { name, version: "1.0.0" });
    const run = await runCli(["deploy", zip, "--wait", "--timeout", "150"], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`✖ ${name} (keeps restarting|did not report Up)`));
    expect(run.stderr).toContain("Last log lines of");
    expect(run.stderr).toContain("fatal: CONFIG_URL is not set");
    expect(run.stderr).toContain("port 80");
  });
});
