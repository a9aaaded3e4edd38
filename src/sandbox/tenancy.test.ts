import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceRuntime } from "./runtime.js";
import { readyDocument, ROUTES, startSandboxServer, type ReadyDocument, type RunningSandbox } from "./server.js";

/**
 * The sandbox as a server many use at once (issues 18, 19), in process, with a stand-in
 * runtime whose one service is a local echo server: load, what anonymous callers get, and
 * what one tenant's users may do to another tenant.
 */
let sandbox: RunningSandbox;
let ready: ReadyDocument;
let echo: Server;
let dataDir: string;

beforeAll(async () => {
  echo = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end(`echo ${req.url}`));
  });
  await new Promise<void>((done) => echo.listen(0, "127.0.0.1", done));
  const port = (echo.address() as AddressInfo).port;
  const runtime: ServiceRuntime = {
    reconcile: () => {},
    status: () => ({ status: "Up", lastUpdated: new Date().toISOString(), desired: 1, instances: [] }),
    logs: async () => ({ dateFrom: "", dateTo: "", logs: "", truncated: false }),
    target: () => ({ host: "127.0.0.1", port }),
    close: async () => {},
  };
  dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-tenancy-"));
  sandbox = await startSandboxServer({ dataDir, port: 0, uploadLimit: 1024 * 1024, logger: { debug: () => {}, warn: () => {} }, faults: false, createRuntime: () => runtime });
  ready = readyDocument(sandbox.store, sandbox.url, { containers: true, faults: false, uploadLimit: 1024 * 1024 });
});
afterAll(async () => {
  await sandbox?.close();
  echo?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const owner = () => ready.tenants.find((t) => t.parent === null)!.id;
const subtenants = () => ready.tenants.filter((t) => t.parent !== null).map((t) => t.id);
const basic = (tenant: string, user: string, password: string) => `Basic ${Buffer.from(`${tenant}/${user}:${password}`).toString("base64")}`;
const adminOf = (tenant: string) => {
  const user = ready.users.find((u) => u.tenant === tenant && u.role === "admin")!;
  return basic(user.tenant, user.user, user.password);
};

async function api(path: string, authorization: string | undefined, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", "content-type": "application/json", ...(init.headers as Record<string, string>) };
  if (authorization) headers.authorization = authorization;
  return fetch(`${sandbox.url}${path}`, { ...init, headers });
}

async function createSubscribed(name: string, tenant: string): Promise<{ id: string; bootstrap: string; serviceUser: string }> {
  const created = (await (await api("/application/applications", adminOf(tenant), { method: "POST", body: JSON.stringify({ name, key: name, type: "MICROSERVICE" }) })).json()) as { id: string };
  expect((await api(`/tenant/tenants/${tenant}/applications`, adminOf(tenant), { method: "POST", body: JSON.stringify({ application: { id: created.id } }) })).status).toBe(201);
  const boot = (await (await api(`/application/applications/${created.id}/bootstrapUser`, adminOf(tenant))).json()) as { tenant: string; name: string; password: string };
  const bootstrap = basic(boot.tenant, boot.name, boot.password);
  const users = (await (await api("/application/currentApplication/subscriptions", bootstrap)).json()) as { users: { tenant: string; name: string; password: string }[] };
  const service = users.users.find((u) => u.tenant === tenant)!;
  return { id: created.id, bootstrap, serviceUser: basic(service.tenant, service.name, service.password) };
}

describe("under load", () => {
  it("answers 200 concurrent API requests and 200 concurrent gateway requests without one error", async () => {
    await createSubscribed("load-echo", owner());
    const admin = adminOf(owner());
    const paths = ["/tenant/currentTenant", "/user/currentUser", "/application/applications?pageSize=100", "/application/applicationsByName/load-echo", "/tenant/loginOptions"];
    const apiCalls = Array.from({ length: 200 }, (_, i) => api(paths[i % paths.length]!, admin));
    const gatewayCalls = Array.from({ length: 200 }, (_, i) => api(`/service/load-echo/item/${i}`, admin, { method: i % 2 ? "POST" : "GET", ...(i % 2 ? { body: `body ${i}` } : {}) }));
    const answers = await Promise.allSettled([...apiCalls, ...gatewayCalls]);
    const failures = answers.filter((a) => a.status === "rejected" || !a.value.ok);
    expect(failures).toEqual([]);
    const bodies = await Promise.all(answers.slice(200).map((a) => (a as PromiseFulfilledResult<Response>).value.text()));
    expect(bodies.every((body, i) => body === `echo /item/${i}`)).toBe(true);
  });
});

describe("who can reach it", () => {
  it("listens on 127.0.0.1 only: no other address of this machine answers", async () => {
    const { hostname, port } = new URL(sandbox.url);
    expect(hostname).toBe("127.0.0.1");
    const others = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address);
    for (const address of others) await expect(fetch(`http://${address}:${port}/tenant/loginOptions`)).rejects.toThrow();
  });

  it("refuses every route that needs a login when there is none (401, No auth information found)", async () => {
    const guarded = ROUTES.filter((route) => route.access !== "public");
    expect(guarded.length).toBeGreaterThan(10);
    for (const route of guarded) {
      const path = route.path.replace(/:[^/]+/g, "1");
      const response = await api(path, undefined, { method: route.method, ...(route.method === "GET" || route.method === "DELETE" ? {} : { body: "{}" }) });
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(await response.json()).toMatchObject({ error: "general/internalError", message: "No auth information found" });
    }
    expect((await api("/service/load-echo/x", undefined)).status).toBe(401);
  });
});

describe("one tenant's users and another tenant's data", () => {
  it("lets no subtenant admin, bootstrap user or service user read or change the owner's application or subscriptions", async () => {
    const target = await createSubscribed("owners-svc", owner());
    const [sub] = subtenants() as [string];
    const theirs = await createSubscribed("subs-svc", sub);
    const before = JSON.stringify(sandbox.store.state);
    const callers = { "a subtenant's admin": adminOf(sub), "its service's bootstrap user": theirs.bootstrap, "its service user": theirs.serviceUser };
    const attempts: [string, string, RequestInit?][] = [
      ["GET", `/application/applications/${target.id}`],
      ["PUT", `/application/applications/${target.id}`, { body: JSON.stringify({ requiredRoles: ["ROLE_TENANT_MANAGEMENT_ADMIN"] }) }],
      ["DELETE", `/application/applications/${target.id}?force=true`],
      ["GET", `/application/applications/${target.id}/bootstrapUser`],
      ["GET", `/application/applications/${target.id}/logs/any`],
      ["POST", `/application/applications/${target.id}/binaries`, { headers: { "content-type": "multipart/form-data; boundary=b" }, body: "--b--" }],
      ["GET", `/tenant/tenants/${owner()}/applications`],
      ["DELETE", `/tenant/tenants/${owner()}/applications/${target.id}`],
      ["POST", `/tenant/tenants/${owner()}/applications`, { body: JSON.stringify({ application: { id: theirs.id } }) }],
      ["GET", `/tenant/tenants/${owner()}`],
      ["GET", `/inventory/managedObjects?type=c8y_Application_${target.id}`],
    ];
    for (const [who, authorization] of Object.entries(callers)) {
      for (const [method, path, init] of attempts) {
        const response = await api(path, authorization, { ...init, method });
        const seen = response.status === 200 ? ((await response.json()) as { managedObjects?: unknown[] }).managedObjects : undefined;
        // 403 or 404 (the platform hides what a tenant may not see); an empty list is all a search may give.
        expect(response.status === 403 || response.status === 404 || (seen !== undefined && seen.length === 0), `${who}: ${method} ${path} → ${response.status}`).toBe(true);
      }
      // Nor may it call a service its tenant is not subscribed to.
      expect((await api("/service/owners-svc/x", authorization)).status, who).toBe(403);
    }
    expect(JSON.stringify(sandbox.store.state)).toBe(before);
  });
});
