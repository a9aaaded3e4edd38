import { execa } from "execa";
import { openAsBlob } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { access, mkdtemp, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEcho, removeImages, zipEcho } from "./helpers/echo-service.js";
import { basicAuth, startSandbox, type SandboxHandle, type SandboxUser } from "./helpers/sandbox.js";

/**
 * End to end with a real engine: a real zip is uploaded, subscribed, run with the platform
 * environment (platform.md §4.1) and reached through the gateway (§4.3). One image build per
 * file; each step builds on the one before.
 */

const NAME = `echo-${process.pid}`;
const IMAGE = `c8y-ms-test/${NAME}:1.0.0`;
const OTHER_IMAGE = `c8y-ms-test/${NAME}:other`;

let sandbox: SandboxHandle;
let work: string;
let zip: string;
let otherZip: string;
let appId: string;
let subtenant: string;
let outsider: string;

interface StatusObject {
  c8y_Status: { status: string; instances: Record<string, { restarts: number }>; details: { desired: number; active: number; restarts: number } };
  c8y_Subscriptions: Record<string, { status: string }>;
}

async function json<T = Record<string, any>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function upload(file: string): Promise<Response> {
  const form = new FormData();
  form.append("file", await openAsBlob(file), `${NAME}.zip`);
  return sandbox.fetch(`/application/applications/${appId}/binaries`, { method: "POST", body: form });
}

async function statusObject(id = appId): Promise<StatusObject | undefined> {
  const body = await json<{ managedObjects: StatusObject[] }>(await sandbox.fetch(`/inventory/managedObjects?type=c8y_Application_${id}`));
  return body.managedObjects[0];
}

/** Polls the status managed object until `accept` holds (the state a `deploy --wait` watches). */
async function waitForStatus(accept: (status: StatusObject) => boolean, what: string, id = appId): Promise<StatusObject> {
  const deadline = Date.now() + 90_000;
  let last: StatusObject | undefined;
  while (Date.now() < deadline) {
    last = await statusObject(id);
    if (last && accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Timed out waiting for ${what}; last status: ${JSON.stringify(last?.c8y_Status)}`);
}

async function sandboxContainers(): Promise<string[]> {
  const { stdout } = await execa("docker", ["ps", "-aq", "--filter", `label=c8y-ms.sandbox=${sandbox.dataDir}`]);
  return stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-e2e-"));
  const [, , started] = await Promise.all([
    buildEcho(IMAGE),
    buildEcho(OTHER_IMAGE, { variant: "other" }),
    startSandbox({ containers: true, args: ["--verbose"], dataDir: join(work, "data") }),
  ]);
  sandbox = started;
  zip = await zipEcho(IMAGE, join(work, "first"), { name: NAME });
  otherZip = await zipEcho(OTHER_IMAGE, join(work, "other"), { name: NAME });
  [subtenant, outsider] = sandbox.subtenants as [string, string];
  const created = await sandbox.fetch("/application/applications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: NAME, key: `${NAME}-key`, type: "MICROSERVICE" }),
  });
  appId = (await json(created)).id;
});

afterAll(async () => {
  await sandbox?.stop();
  await removeImages(IMAGE, OTHER_IMAGE);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("a microservice in the sandbox, end to end (platform.md §4, §6)", () => {
  it("accepts the zip: 201, a version id, and the manifest's roles on the application", async () => {
    expect(sandbox.ready.containers).toBe(true);
    const response = await upload(zip);
    expect(response.status).toBe(201);
    const app = await json(response);
    expect(app.activeVersionId).toMatch(/^\d+$/);
    expect(app.requiredRoles).toEqual(["ROLE_INVENTORY_READ"]);
    expect(app.manifest).toMatchObject({ name: NAME, version: "1.0.0" });
    // Uploaded but not subscribed: nothing runs yet.
    const status = await statusObject();
    expect(status?.c8y_Status.status).toBe("Unknown");
    expect(await sandboxContainers()).toEqual([]);
  });

  it("runs it after a subscription and reports Up once the readiness probe passes", async () => {
    for (const tenant of [sandbox.owner, subtenant]) {
      const response = await sandbox.fetch(`/tenant/tenants/${tenant}/applications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ application: { id: appId } }),
      });
      expect(response.status).toBe(201);
    }
    const status = await waitForStatus((s) => s.c8y_Status.status === "Up", "Up");
    expect(status.c8y_Status.details).toMatchObject({ desired: 1, active: 1 });
    expect(Object.keys(status.c8y_Status.instances)).toEqual([expect.stringMatching(new RegExp(`^${NAME}-scope-${sandbox.owner}-deployment-`))]);
    expect(Object.keys(status.c8y_Subscriptions).sort()).toEqual([sandbox.owner, subtenant].sort());
  });

  it("starts the container as the platform does: capabilities dropped, memory limit, its own network, platform environment", async () => {
    const [id] = await sandboxContainers();
    const { stdout } = await execa("docker", ["inspect", "--format", "{{json .HostConfig}}", id!]);
    const host = JSON.parse(stdout) as { CapDrop: string[]; CapAdd: string[]; Memory: number; NetworkMode: string };
    expect(host.CapDrop).toEqual(["ALL"]);
    // Docker reports added capabilities with their CAP_ prefix.
    expect(host.CapAdd.map((c) => c.replace(/^CAP_/, ""))).toEqual(["NET_BIND_SERVICE"]);
    expect(host.Memory).toBe(256_000_000);
    expect(host.NetworkMode).toBe("none");

    const env = await json(await sandbox.fetch(`/service/${NAME}/env`));
    expect(env).toEqual({
      APPLICATION_NAME: NAME,
      APPLICATION_KEY: `${NAME}-key`,
      C8Y_BASEURL: sandbox.url,
      C8Y_MICROSERVICE_ISOLATION: "MULTI_TENANT",
      C8Y_BOOTSTRAP_TENANT: sandbox.owner,
      C8Y_BOOTSTRAP_USER: `servicebootstrap_${NAME}`,
      MEMORY_LIMIT: "256M",
      SERVER_PORT: "80",
      hasBootstrapPassword: true,
      hasPassword: false,
    });
  });

  it("keeps the bootstrap password out of the run command line and out of docker inspect", async () => {
    const bootstrap = await json(await sandbox.fetch(`/application/applications/${appId}/bootstrapUser`));
    const password = String(bootstrap.password);
    // --verbose logs every command the sandbox runs, as the process table would show it.
    const runs = sandbox.stderr().split("\n").filter((line) => line.includes("$ docker run"));
    expect(runs.length).toBeGreaterThan(0);
    for (const line of runs) {
      expect(line).not.toContain("C8Y_BOOTSTRAP_PASSWORD");
      expect(line).not.toContain(password);
    }
    const [id] = await sandboxContainers();
    const { stdout } = await execa("docker", ["inspect", id!]);
    expect(stdout).not.toContain(password);
    expect(stdout).not.toContain("C8Y_BOOTSTRAP_PASSWORD");
    // The file the launcher reads is the container's; on the host only the sandbox's user reaches it.
    expect((await stat(join(sandbox.dataDir, "run"))).mode & 0o777).toBe(0o700);
  });

  it("is reachable only through the gateway, and reaches only the sandbox", async () => {
    const [id] = await sandboxContainers();
    const pid = (await execa("docker", ["inspect", "--format", "{{.State.Pid}}", id!])).stdout.trim();
    expect(await readlink(`/proc/${pid}/ns/net`)).not.toBe(await readlink("/proc/self/ns/net"));
    // The port the service listens on is not the host's: asked directly, whatever answers there is not the service.
    const { SERVER_PORT: port } = await json(await sandbox.fetch(`/service/${NAME}/env`));
    const direct = await fetch(`http://127.0.0.1:${port}/env`).then((r) => r.text(), (e: Error) => e.message);
    expect(direct).not.toContain(NAME);
    expect((await sandbox.fetch(`/service/${NAME}/env`, { as: null })).status).toBe(401);

    // From inside, a server on the host's loopback is out of reach; the sandbox at C8Y_BASEURL is not.
    const outside = createServer((_req, res) => res.end("reached")).listen(0, "127.0.0.1");
    await new Promise((resolve) => outside.once("listening", resolve));
    try {
      const probe = (url: string) =>
        execa("docker", ["exec", id!, "node", "-e", `fetch(${JSON.stringify(url)}).then((r) => console.log(r.status), (e) => console.log("unreachable", e.cause?.code))`]);
      expect((await probe(`http://127.0.0.1:${(outside.address() as AddressInfo).port}/`)).stdout).toMatch(/^unreachable/);
      expect((await probe(`${sandbox.url}/tenant/loginOptions`)).stdout).toBe("200");
    } finally {
      outside.close();
    }
  });

  it("forwards /service/<name>/... with the prefix stripped, Authorization kept and x-forwarded-* set", async () => {
    const response = await sandbox.fetch(`/service/${NAME}/echo/a%20b/c?x=1&y=2`, { headers: { "x-custom": "kept" } });
    expect(response.status).toBe(200);
    const echo = await json(response);
    expect(echo.url).toBe("/echo/a%20b/c?x=1&y=2");
    expect(echo.headers.authorization).toMatch(/^Basic /);
    expect(echo.headers["x-custom"]).toBe("kept");
    expect(echo.headers["x-forwarded-prefix"]).toBe(`/service/${NAME}`);
    expect(echo.headers["x-forwarded-host"]).toBe(new URL(sandbox.url).host);
    expect(echo.headers["x-forwarded-proto"]).toBe("http");

    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const posted = await json(await sandbox.fetch(`/service/${NAME}/upload`, { method: "POST", body }));
    expect(posted).toMatchObject({ method: "POST", url: "/upload", bodyBytes: body.length });
  });

  it("passes WebSocket upgrades through the gateway", async () => {
    const result = await new Promise<{ status?: number; url?: string; echoed: string }>((resolve, reject) => {
      const req = request(`${sandbox.url}/service/${NAME}/ws?channel=1`, {
        headers: { authorization: basicAuth(sandbox.admin), connection: "Upgrade", upgrade: "websocket" },
      });
      req.on("upgrade", (res, socket) => {
        socket.once("data", (data) => {
          socket.destroy();
          resolve({ status: res.statusCode, url: String(res.headers["x-seen-url"]), echoed: String(data) });
        });
        socket.write("ping");
      });
      req.on("response", (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    expect(result).toEqual({ status: 101, url: "/ws?channel=1", echoed: "ping" });
  });

  it("lets the service fetch its service users with the bootstrap credentials and validate callers", async () => {
    const users = await json(await sandbox.fetch(`/service/${NAME}/service-users`));
    expect(users.users).toEqual(
      expect.arrayContaining([
        { tenant: sandbox.owner, name: `service_${NAME}`, hasPassword: true },
        { tenant: subtenant, name: `service_${NAME}`, hasPassword: true },
      ]),
    );
    expect(await json(await sandbox.fetch(`/service/${NAME}/settings`))).toEqual({ greeting: "hello" });
    const subAdmin = sandbox.subtenantAdmins[subtenant] as SandboxUser;
    const who = await json(await sandbox.fetch(`/service/${NAME}/whoami`, { as: subAdmin }));
    expect(who.userName).toBe("admin");
  });

  it("refuses callers without credentials (401), of unsubscribed tenants (403), and unknown services (404)", async () => {
    const anonymous = await sandbox.fetch(`/service/${NAME}/health`, { as: null });
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toMatchObject({ error: "general/internalError", message: "No auth information found" });
    const unsubscribed = await sandbox.fetch(`/service/${NAME}/health`, { as: sandbox.subtenantAdmins[outsider] as SandboxUser });
    expect(unsubscribed.status).toBe(403);
    expect((await json(unsubscribed)).message).toContain("not subscribed");
    expect((await sandbox.fetch("/service/no-such-service/health")).status).toBe(404);
  });

  it("serves the container's logs through the logs endpoint", async () => {
    const status = await statusObject();
    const instance = Object.keys(status?.c8y_Status.instances ?? {})[0]!;
    const response = await sandbox.fetch(`/application/applications/${appId}/logs/${instance}`);
    expect(response.status).toBe(200);
    const logs = await json(response);
    expect(logs.logs).toContain("echo listening on port");
    expect(logs.logs).toContain(`GET /echo/a%20b/c?x=1&y=2`);
    expect(logs.truncated).toBe(false);
    expect(typeof logs.dateFrom).toBe("string");
    expect((await sandbox.fetch(`/application/applications/${appId}/logs/no-such-instance`)).status).toBe(404);
  });

  it("reports Down when the readiness probe fails, answers 503, and restarts on liveness failure", async () => {
    await sandbox.fetch(`/service/${NAME}/unhealthy`, { method: "POST" });
    await waitForStatus((s) => s.c8y_Status.status === "Down", "Down");
    const unavailable = await sandbox.fetch(`/service/${NAME}/health`);
    expect(unavailable.status).toBe(503);
    // Liveness: 3 failures 5 s apart restart the container, which comes back healthy.
    const back = await waitForStatus((s) => s.c8y_Status.status === "Up" && s.c8y_Status.details.restarts >= 1, "a restart and Up again");
    expect(back.c8y_Status.details.restarts).toBeGreaterThanOrEqual(1);
    const logs = await json(await sandbox.fetch(`/application/applications/${appId}/logs/${Object.keys(back.c8y_Status.instances)[0]}`));
    expect(logs.logs).toContain("health turned DOWN on request");
  });

  it("applies the version rules: the same version with a different image is refused, the identical one accepted and replaces the containers", async () => {
    const before = Object.keys((await statusObject())!.c8y_Status.instances);
    const different = await upload(otherZip);
    expect(different.status).toBe(422);
    expect((await json(different)).message).toContain("1.0.0");

    const app = await json(await sandbox.fetch(`/application/applications/${appId}`));
    const again = await upload(zip);
    expect(again.status).toBe(201);
    const reuploaded = await json(again);
    expect(reuploaded.activeVersionId).not.toBe(app.activeVersionId);
    const after = await waitForStatus((s) => s.c8y_Status.status === "Up" && !Object.keys(s.c8y_Status.instances).some((n) => before.includes(n)), "new containers");
    expect(Object.keys(after.c8y_Status.instances)).toHaveLength(1);
  });

  it("loads an upload under the sandbox's own name: a subtenant's image claiming a local tag leaves it alone, and its own tag goes with the application", async () => {
    const name = `claim-${process.pid}`;
    const victim = `c8y-ms-test/${NAME}:victim`;
    const sub = subtenant;
    const subAdmin = sandbox.subtenantAdmins[sub] as SandboxUser;
    const imageId = async (ref: string) => (await execa("docker", ["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
    // An archive of one image that names the tag of another: saved under `victim`, which then moves to IMAGE.
    await execa("docker", ["tag", OTHER_IMAGE, victim]);
    const claiming = await zipEcho(victim, join(work, "claim"), { name });
    await execa("docker", ["tag", IMAGE, victim]);
    const victimId = await imageId(victim);
    try {
      const created = await json(
        await sandbox.fetch("/application/applications", {
          method: "POST",
          as: subAdmin,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }),
        }),
      );
      const form = new FormData();
      form.append("file", await openAsBlob(claiming), `${name}.zip`);
      expect((await sandbox.fetch(`/application/applications/${created.id}/binaries`, { method: "POST", as: subAdmin, body: form })).status).toBe(201);
      expect(
        (
          await sandbox.fetch(`/tenant/tenants/${sub}/applications`, {
            method: "POST",
            as: subAdmin,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ application: { id: created.id } }),
          })
        ).status,
      ).toBe(201);
      const ours = async () => (await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.split("\n").filter((r) => r.startsWith("c8y-ms-sandbox-") && r.includes(`/${name}:`));
      const deadline = Date.now() + 60_000;
      while ((await ours()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 300));
      const [ref] = await ours();
      expect(await imageId(ref!)).toBe(await imageId(OTHER_IMAGE));
      expect(await imageId(victim)).toBe(victimId);

      expect((await sandbox.fetch(`/application/applications/${created.id}`, { method: "DELETE", as: subAdmin })).status).toBe(204);
      while ((await ours()).length > 0 && Date.now() < deadline + 30_000) await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await ours()).toEqual([]);
      expect(await imageId(victim)).toBe(victimId);
    } finally {
      await removeImages(victim);
    }
  });

  it("runs an image without /bin/sh with its passwords in an environment file, says what that shows, and leaves no failed container", async () => {
    const name = `noshell-${process.pid}`;
    const image = `c8y-ms-test/${NAME}:noshell`;
    await execa("docker", ["build", "--network", "host", "-t", image, "-"], { input: `FROM ${IMAGE}\nRUN ["/bin/rm", "/bin/sh"]\n` });
    try {
      const zipped = await zipEcho(image, join(work, "noshell"), { name });
      const created = await json(
        await sandbox.fetch("/application/applications", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }),
        }),
      );
      const form = new FormData();
      form.append("file", await openAsBlob(zipped), `${name}.zip`);
      expect((await sandbox.fetch(`/application/applications/${created.id}/binaries`, { method: "POST", body: form })).status).toBe(201);
      await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ application: { id: created.id } }),
      });
      await waitForStatus((s) => s.c8y_Status.status === "Up", "the shell-less service Up", created.id);
      expect(await json(await sandbox.fetch(`/service/${name}/env`))).toMatchObject({ hasBootstrapPassword: true, SERVER_PORT: "80" });
      expect(sandbox.stderr()).toContain(`The image of ${name} has no /bin/sh for the sandbox's launcher: its passwords are passed as environment variables, which \`docker inspect\` shows`);
      const { stdout } = await execa("docker", ["ps", "-a", "--filter", `label=c8y-ms.application=${created.id}`, "--format", "{{.Status}}"]);
      expect(stdout.split("\n").filter(Boolean).map((status) => status.split(" ")[0])).toEqual(["Up"]);
      expect((await sandbox.fetch(`/application/applications/${created.id}`, { method: "DELETE" })).status).toBe(204);
    } finally {
      await removeImages(image);
    }
  });

  it("runs a PER_TENANT service once per subscribed tenant, each with its own service user (platform.md §4.1)", async () => {
    const name = `echo-pt-${process.pid}`;
    const perTenantZip = await zipEcho(IMAGE, join(work, "per-tenant"), { name, isolation: "PER_TENANT" });
    const created = await json(
      await sandbox.fetch("/application/applications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }),
      }),
    );
    const form = new FormData();
    form.append("file", await openAsBlob(perTenantZip), `${name}.zip`);
    expect((await sandbox.fetch(`/application/applications/${created.id}/binaries`, { method: "POST", body: form })).status).toBe(201);
    for (const tenant of [sandbox.owner, subtenant]) {
      await sandbox.fetch(`/tenant/tenants/${tenant}/applications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ application: { id: created.id } }),
      });
    }
    const status = await waitForStatus((s) => s.c8y_Status.status === "Up", "both tenants' instances Up", created.id);
    expect(status.c8y_Status.details).toMatchObject({ desired: 2, active: 2 });
    expect(status.c8y_Subscriptions[subtenant]?.status).toBe("Up");
    // Each tenant reaches its own instance, which knows its tenant and service user.
    for (const [tenant, caller] of [
      [sandbox.owner, sandbox.admin],
      [subtenant, sandbox.subtenantAdmins[subtenant] as SandboxUser],
    ] as const) {
      const env = await json(await sandbox.fetch(`/service/${name}/env`, { as: caller }));
      expect(env).toMatchObject({ C8Y_MICROSERVICE_ISOLATION: "PER_TENANT", C8Y_TENANT: tenant, C8Y_USER: `service_${name}`, hasPassword: true });
    }
    expect((await sandbox.fetch(`/application/applications/${created.id}?force=true`, { method: "DELETE" })).status).toBe(204);
  });

  it("stops the containers when the last tenant unsubscribes, brings services back after a restart, and leaves none behind on shutdown", async () => {
    for (const tenant of [subtenant, sandbox.owner]) {
      expect((await sandbox.fetch(`/tenant/tenants/${tenant}/applications/${appId}`, { method: "DELETE" })).status).toBe(204);
    }
    const deadline = Date.now() + 30_000;
    while ((await sandboxContainers()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await sandboxContainers()).toEqual([]);
    expect((await sandbox.fetch(`/service/${NAME}/health`)).status).toBe(403);

    await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ application: { id: appId } }),
    });
    await waitForStatus((s) => s.c8y_Status.status === "Up", "Up after subscribing again");
    await sandbox.stop();
    expect(await sandboxContainers()).toEqual([]);

    // The same data directory: same credentials, and the subscribed service runs again.
    const first = sandbox;
    sandbox = await startSandbox({ containers: true, dataDir: first.dataDir });
    expect(sandbox.admin).toEqual(first.admin);
    await waitForStatus((s) => s.c8y_Status.status === "Up", "Up after a restart");
    expect((await json(await sandbox.fetch(`/service/${NAME}/health`))).status).toBe("UP");

    // A crash leaves its containers, tags and an unfinished upload; the next start clears them all.
    await sandbox.kill();
    const orphans = await sandboxContainers();
    expect(orphans).toHaveLength(1);
    const unfinished = join(first.dataDir, "binaries", ".upload.zip.1234-abcd.tmp");
    await writeFile(unfinished, "half an upload");
    sandbox = await startSandbox({ containers: true, dataDir: first.dataDir });
    await expect(access(unfinished)).rejects.toThrow();
    await waitForStatus((s) => s.c8y_Status.status === "Up", "Up after a crash");
    const fresh = await sandboxContainers();
    expect(fresh).toHaveLength(1);
    expect(fresh).not.toEqual(orphans);
    await sandbox.stop();
    expect(await sandboxContainers()).toEqual([]);
    const tags = (await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.split("\n").filter((r) => r.startsWith("c8y-ms-sandbox-") && r.includes(`/${NAME}:`));
    expect(tags).toEqual([]);
  });
});
