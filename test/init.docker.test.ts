import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "./helpers/cli.js";
import { NODE_BASE_IMAGE, PYTHON_BASE_IMAGE } from "./helpers/paths.js";
import { startSandbox, type SandboxHandle, type SandboxUser } from "./helpers/sandbox.js";

/**
 * The "done when": for each template, `init` then the next steps it prints — validate,
 * pack (on the offline base image instead of the public default), deploy — give a service that
 * is Up in the sandbox and answers through its gateway (platform.md §4.3) for the owner and a
 * subscribed subtenant, using service users it read from the sandbox (§4.4).
 */
interface Case {
  template: string;
  baseImage: string;
  isolation: "MULTI_TENANT" | "PER_TENANT";
  /** The example endpoint (node and python); the dockerfile skeleton answers /health only. */
  hello: boolean;
}

const CASES: Case[] = [
  { template: "node", baseImage: NODE_BASE_IMAGE, isolation: "MULTI_TENANT", hello: true },
  { template: "node", baseImage: NODE_BASE_IMAGE, isolation: "PER_TENANT", hello: true },
  { template: "python", baseImage: PYTHON_BASE_IMAGE, isolation: "PER_TENANT", hello: true },
  { template: "python", baseImage: PYTHON_BASE_IMAGE, isolation: "MULTI_TENANT", hello: true },
  { template: "dockerfile", baseImage: PYTHON_BASE_IMAGE, isolation: "MULTI_TENANT", hello: false },
];

interface HelloAnswer {
  message: string;
  caller: { tenant: string; user: string };
  serviceUser: { tenant: string; user: string };
}

let sandbox: SandboxHandle;
let subtenant: string;
let outsider: string;
const images: string[] = [];
/** The projects outlive a single test: each step works on the one init made. */
const workDirs: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ containers: true });
  [subtenant, outsider] = sandbox.subtenants as [string, string];
});

afterAll(async () => {
  await sandbox?.stop();
  if (images.length > 0) await execa("docker", ["rmi", "--force", ...images], { reject: false });
  await Promise.all(workDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.each(CASES.map((c) => [`${c.template} (${c.isolation})`, c] as const))("%s: init, then its next steps, into the sandbox", (_label, c) => {
  // A fixed name: the node image's build stage (which holds package.json) is then reused from
  // the layer cache run after run instead of leaving a new untagged image behind each time.
  const name = `e2e-${c.template.slice(0, 4)}-${c.isolation === "PER_TENANT" ? "pt" : "mt"}`;
  let project: string;
  let nextSteps: string[];

  const step = (command: string) => command.split(" ").slice(1);
  const gateway = (path: string, as?: SandboxUser | null) => sandbox.fetch(`/service/${name}${path}`, as === undefined ? {} : { as });

  test("init scaffolds the project without a terminal", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "c8y-ms-init-e2e-"));
    workDirs.push(cwd);
    const run = await runCli(["init", name, "--template", c.template, "--isolation", c.isolation, "--no-install", "--no-git", "--yes", "--json"], { cwd });
    expect(run.exitCode, run.stderr).toBe(0);
    project = join(cwd, name);
    nextSteps = run.json<{ nextSteps: string[] }>().nextSteps.filter((s) => s.startsWith("c8y-ms "));
    expect(nextSteps.map((s) => s.split(" ")[1])).toEqual(["validate", "pack", "sandbox", "deploy"]);
  });

  test("validate passes", async () => {
    const run = await runCli(step(nextSteps[0]!), { cwd: project });
    expect(run.exitCode, run.stderr).toBe(0);
  });

  test("pack builds the image on the offline base image and zips it", async () => {
    const pack = nextSteps[1]!.replace(/BASE_IMAGE=\S+/, `BASE_IMAGE=${c.baseImage}`);
    const run = await runCli([...step(pack), "--json"], { cwd: project });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json<{ file: string; name: string; version: string; image: { ref: string } }>();
    images.push(result.image.ref);
    expect(result).toMatchObject({ name, version: "1.0.0-SNAPSHOT" });
    expect((await stat(result.file)).size).toBeGreaterThan(0);
  });

  test("deploy uploads it, subscribes the owner and a subtenant, and waits until it is Up", async () => {
    const run = await runCli([...step(nextSteps[3]!), "--subscribe-tenant", subtenant, "--json"], { cwd: project, env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json<{ application: { name: string }; uploaded: boolean; subscriptions: { tenant: string }[] }>();
    expect(result.application.name).toBe(name);
    expect(result.uploaded).toBe(true);
    expect(result.subscriptions.map((s) => s.tenant).sort()).toEqual([sandbox.owner, subtenant].sort());
  });

  test("the gateway reaches /health; callers without credentials or from unsubscribed tenants are turned away", async () => {
    const health = await gateway("/health");
    expect(health.status).toBe(200);
    expect(JSON.parse(await health.text())).toEqual({ status: "UP" });
    expect((await gateway("/health", null)).status).toBe(401);
    expect((await gateway("/health", sandbox.subtenantAdmins[outsider]!)).status).toBe(403);
  });

  if (c.hello) test("the example endpoint checks each caller and acts as the service user of the caller's tenant", async () => {
    for (const caller of [sandbox.admin, sandbox.subtenantAdmins[subtenant]!]) {
      const response = await gateway("/hello", caller);
      expect(response.status).toBe(200);
      const answer = (await response.json()) as HelloAnswer;
      expect(answer.caller).toEqual({ tenant: caller.tenant, user: caller.user });
      // The platform (the sandbox) accepted the service user's credentials in the caller's tenant.
      expect(answer.serviceUser).toMatchObject({ tenant: caller.tenant, user: expect.stringMatching(/^service_/) });
    }
  });

  if (c.isolation === "MULTI_TENANT" && c.hello) test("it read the subscribed tenants' service users from the sandbox", async () => {
    const apps = (await (await sandbox.fetch(`/application/applications?name=${name}`)).json()) as { applications: { id: string }[] };
    const id = apps.applications[0]!.id;
    const status = (await (await sandbox.fetch(`/inventory/managedObjects?type=c8y_Application_${id}`)).json()) as {
      managedObjects: { c8y_Status: { instances: Record<string, unknown> } }[];
    };
    const instance = Object.keys(status.managedObjects[0]!.c8y_Status.instances)[0]!;
    const logs = (await (await sandbox.fetch(`/application/applications/${id}/logs/${instance}`)).json()) as { logs: string };
    expect(logs.logs).toContain(`listening on port`);
    expect(logs.logs).toContain(`Subscribed tenants: ${[sandbox.owner, subtenant].sort().join(", ")}`);
  });
});
