import { request } from "node:http";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCode } from "../src/sandbox/auth.js";
import { runCli, spawnCli } from "./helpers/cli.js";
import { basicAuth, startSandbox, type SandboxHandle, type SandboxUser } from "./helpers/sandbox.js";

/**
 * Contract tests of the sandbox's REST API (platform.md §3, §6), driven over HTTP against the
 * built CLI. Uploads, the gateway and faults have their own files.
 */

const NO_AUTH = { error: "general/internalError", message: "No auth information found" };
const BAD_CREDENTIALS = { error: "security/Unauthorized", message: "Invalid credentials! : Bad credentials" };
const FORBIDDEN = { error: "security/Forbidden", message: "Access is denied" };

let sandbox: SandboxHandle;
let counter = 0;
/** A unique microservice name per test. */
const uniqueName = (prefix = "svc") => `${prefix}-${process.pid % 1000}-${++counter}`;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

async function json(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

async function createApp(body: Record<string, unknown> = {}, as: SandboxUser | "admin" = "admin") {
  const name = uniqueName();
  const response = await sandbox.fetch("/application/applications", {
    method: "POST",
    as,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE", ...body }),
  });
  expect(response.status).toBe(201);
  return json(response);
}

async function subscribeTenant(tenant: string, id: string, as: SandboxUser | "admin" = "admin") {
  return sandbox.fetch(`/tenant/tenants/${tenant}/applications`, {
    method: "POST",
    as,
    headers: { "content-type": "application/vnd.com.nsn.cumulocity.applicationReference+json" },
    body: JSON.stringify({ application: { id } }),
  });
}

async function bootstrapOf(id: string): Promise<SandboxUser> {
  const body = await json(await sandbox.fetch(`/application/applications/${id}/bootstrapUser`));
  return { tenant: body.tenant, user: body.name, password: body.password };
}

describe("c8y-ms sandbox: start and ready document (TEAM.md part C)", () => {
  it("prints one JSON document with the URL, the data directory, three tenants and the users", () => {
    const ready = sandbox.ready;
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.containers).toBe(false);
    expect(ready.faults).toBe(false);
    expect(ready.uploadLimit).toBe(500 * 1024 * 1024);
    expect(ready.tenants).toHaveLength(3);
    expect(ready.tenants.filter((t) => t.parent === null)).toHaveLength(1);
    expect(sandbox.subtenants).toHaveLength(2);
    expect(ready.users.map((u) => u.role).sort()).toEqual(["admin", "admin", "admin", "read-only", "tfa"]);
    for (const user of ready.users) expect(user.password.length).toBeGreaterThanOrEqual(16);
  });

  it("prints the same facts for people on stderr, keeps stdout empty, and exits 130 after Ctrl-C", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-human-"));
    try {
      const { child, result } = spawnCli(["sandbox", "--port", "0", "--data-dir", dataDir, "--no-containers"], { writes: [dataDir], timeout: 0 });
      let stderr = "";
      const ready = new Promise<void>((resolve) =>
        child.stderr!.on("data", (d) => {
          stderr += String(d);
          if (stderr.includes("Press Ctrl-C to stop.")) resolve();
        }),
      );
      await ready;
      child.kill("SIGINT");
      const run = await result;
      const { exitCode: code, stdout } = run;
      stderr = run.stderr;
      expect(code).toBe(130);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/Sandbox ready at http:\/\/127\.0\.0\.1:\d+/);
      expect(stderr).toMatch(/export C8Y_HOST=http:\/\/127\.0\.0\.1:\d+ C8Y_TENANT=t\d+ C8Y_USER=admin C8Y_PASSWORD='[^']+'/);
      expect(stderr).toMatch(/t\d+\/reader +\S+ +read-only/);
      expect((await stat(join(dataDir, "state.json"))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a port in use with exit 1 and the fix", async () => {
    const port = new URL(sandbox.url).port;
    const dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-port-"));
    try {
      const { exitCode: code, stdout, stderr } = await runCli(["sandbox", "--port", port, "--data-dir", dataDir, "--no-containers", "--json"], { writes: [dataDir] });
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use.`);
      expect(stderr).toContain("--port 0");
      expect(JSON.parse(stdout).error.message).toContain("already in use");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("engine none", () => {
  it("runs no services when C8Y_MS_ENGINE=none (set for engine-less builds), and says so", async () => {
    const quiet = await startSandbox({ containers: true, env: { C8Y_MS_ENGINE: "none" } });
    try {
      expect(quiet.ready.containers).toBe(false);
      expect(quiet.stderr()).toContain("Engine none: the sandbox checks and stores uploads but runs no services");
    } finally {
      await quiet.stop();
    }
  });
});

describe("one sandbox per data directory", () => {
  it("refuses a second sandbox on the same data directory with exit 1 and the fix", async () => {
    const { exitCode: code, stderr } = await runCli(["sandbox", "--port", "0", "--data-dir", sandbox.dataDir, "--no-containers"], { writes: [sandbox.dataDir] });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Another sandbox \(pid \d+\) is using /);
    expect(stderr).toContain("--data-dir");
  });
});

describe("authentication (platform.md §3.2, §6.1)", () => {
  it("answers a call without credentials with 401 'No auth information found'", async () => {
    const response = await sandbox.fetch("/tenant/currentTenant", { as: null });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("application/vnd.com.nsn.cumulocity.error+json");
    expect(await json(response)).toMatchObject(NO_AUTH);
  });

  it("accepts Basic tenant/user:password and a bare user:password, and refuses a wrong password", async () => {
    const ok = await sandbox.fetch("/tenant/currentTenant");
    expect(ok.status).toBe(200);
    expect((await json(ok)).name).toBe(sandbox.owner);

    const bare = await fetch(`${sandbox.url}/user/currentUser`, {
      headers: { authorization: `Basic ${Buffer.from(`reader:${sandbox.reader.password}`).toString("base64")}` },
    });
    expect(bare.status).toBe(200);
    expect((await json(bare)).userName).toBe("reader");

    const wrong = await sandbox.fetch("/tenant/currentTenant", { as: { ...sandbox.admin, password: "wrong-password" } });
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject(BAD_CREDENTIALS);

    const otherTenant = await sandbox.fetch("/tenant/currentTenant", { as: { ...sandbox.admin, tenant: sandbox.subtenants[0]! } });
    expect(otherTenant.status).toBe(401);
  });

  it("tells a two-factor user that a TOTP code is required, and gives a token with the code", async () => {
    const basic = await sandbox.fetch("/user/currentUser", { as: "tfa" });
    expect(basic.status).toBe(401);
    expect((await json(basic)).message).toBe("TFA TOTP code required");

    const form = (extra: Record<string, string>) =>
      new URLSearchParams({ grant_type: "PASSWORD", username: sandbox.tfa.user, password: sandbox.tfa.password, ...extra }).toString();
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const withoutCode = await fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${sandbox.owner}`, { method: "POST", headers, body: form({}) });
    expect(withoutCode.status).toBe(401);
    expect((await json(withoutCode)).message).toBe("TFA TOTP code required");

    const withCode = await fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${sandbox.owner}`, {
      method: "POST",
      headers,
      body: form({ tfa_code: totpCode(sandbox.tfa.totpSecret) }),
    });
    expect(withCode.status).toBe(200);
    const { access_token } = await json(withCode);
    const me = await fetch(`${sandbox.url}/user/currentUser`, { headers: { authorization: `Bearer ${access_token}` } });
    expect((await json(me)).userName).toBe(sandbox.tfa.user);
  });

  it("issues bearer tokens from /tenant/oauth/token and refuses forged ones", async () => {
    const response = await fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${sandbox.owner}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "PASSWORD", username: "admin", password: sandbox.admin.password }).toString(),
    });
    expect(response.status).toBe(200);
    const token = String((await json(response)).access_token);
    expect(token.split(".")).toHaveLength(3);
    const ok = await fetch(`${sandbox.url}/tenant/currentTenant`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const forged = await fetch(`${sandbox.url}/tenant/currentTenant`, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);

    const wrong = await fetch(`${sandbox.url}/tenant/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "PASSWORD", username: `${sandbox.owner}/admin`, password: "nope" }).toString(),
    });
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject(BAD_CREDENTIALS);
  });

  it("logs in with OAI-Secure cookies that need the X-XSRF-TOKEN header", async () => {
    const login = await fetch(`${sandbox.url}/tenant/oauth?tenant_id=${sandbox.owner}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "PASSWORD", username: "admin", password: sandbox.admin.password }).toString(),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers.getSetCookie();
    const auth = cookies.find((c) => c.startsWith("authorization="))!.split(";")[0]!;
    const xsrf = cookies.find((c) => c.startsWith("XSRF-TOKEN="))!.split(";")[0]!.split("=")[1]!;
    expect(cookies.find((c) => c.startsWith("authorization="))).toContain("HttpOnly");

    const ok = await fetch(`${sandbox.url}/user/currentUser`, { headers: { cookie: auth, "x-xsrf-token": xsrf } });
    expect(ok.status).toBe(200);
    const noXsrf = await fetch(`${sandbox.url}/user/currentUser`, { headers: { cookie: auth } });
    expect(noXsrf.status).toBe(401);
  });

  it("lists the login options without credentials", async () => {
    const response = await sandbox.fetch("/tenant/loginOptions", { as: null });
    expect(response.status).toBe(200);
    const types = (await json(response)).loginOptions.map((o: { type: string }) => o.type);
    expect(types).toEqual(["BASIC", "OAUTH2_INTERNAL"]);
  });
});

describe("current tenant and user (platform.md §3.3 #1, #21)", () => {
  it("gives the tenant id in `name` and the subtenant's parent", async () => {
    const owner = await json(await sandbox.fetch("/tenant/currentTenant"));
    expect(owner).toMatchObject({ name: sandbox.owner, allowCreateTenants: true });
    expect(owner.parent).toBeUndefined();
    const sub = sandbox.subtenants[0]!;
    const child = await json(await sandbox.fetch("/tenant/currentTenant", { as: sandbox.subtenantAdmins[sub]! }));
    expect(child).toMatchObject({ name: sub, parent: sandbox.owner });
  });

  it("gives effectiveRoles: management roles for the admin, read roles only for the reader", async () => {
    const roles = async (as: "admin" | "reader") =>
      (await json(await sandbox.fetch("/user/currentUser", { as }))).effectiveRoles.map((r: { id: string }) => r.id);
    expect(await roles("admin")).toEqual(expect.arrayContaining(["ROLE_APPLICATION_MANAGEMENT_ADMIN", "ROLE_TENANT_MANAGEMENT_ADMIN"]));
    const reader = await roles("reader");
    expect(reader).toContain("ROLE_APPLICATION_MANAGEMENT_READ");
    expect(reader.filter((r: string) => r.endsWith("_ADMIN"))).toEqual([]);
  });

  it("lists the owner's subtenants", async () => {
    const body = await json(await sandbox.fetch("/tenant/tenants?pageSize=100"));
    expect(body.tenants.map((t: { id: string }) => t.id).sort()).toEqual([...sandbox.subtenants].sort());
  });

  it("answers media types in the platform's vendor form, or plain JSON when only that is accepted", async () => {
    const vendor = await sandbox.fetch("/tenant/currentTenant", { headers: { accept: "application/vnd.com.nsn.cumulocity.currentTenant+json" } });
    expect(vendor.headers.get("content-type")).toBe("application/vnd.com.nsn.cumulocity.currentTenant+json;charset=UTF-8;ver=0.9");
    const plain = await sandbox.fetch("/tenant/currentTenant", { headers: { accept: "application/json" } });
    expect(plain.headers.get("content-type")).toBe("application/json;charset=UTF-8");
  });
});

describe("applications (platform.md §3.3 #2–#6, #11, #12)", () => {
  it("creates a microservice: 201, Location, the application with contextPath = name", async () => {
    const name = uniqueName();
    const response = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/vnd.com.nsn.cumulocity.application+json", accept: "application/vnd.com.nsn.cumulocity.application+json" },
      body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE", requiredRoles: ["ROLE_INVENTORY_READ"] }),
    });
    expect(response.status).toBe(201);
    const app = await json(response);
    expect(response.headers.get("location")).toBe(`${sandbox.url}/application/applications/${app.id}`);
    expect(app).toMatchObject({
      name,
      key: `${name}-key`,
      type: "MICROSERVICE",
      availability: "PRIVATE",
      contextPath: name,
      requiredRoles: ["ROLE_INVENTORY_READ"],
      owner: { tenant: { id: sandbox.owner } },
      self: `${sandbox.url}/application/applications/${app.id}`,
    });
    expect(app.activeVersionId).toBeUndefined();
  });

  it("answers a POST without Accept with an empty body, as the legacy reference says", async () => {
    const name = uniqueName();
    // fetch always sends Accept, so use node:http, which sends none unless told.
    const response = await new Promise<{ status: number; location: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`${sandbox.url}/application/applications`, {
        method: "POST",
        headers: { authorization: basicAuth(sandbox.admin), "content-type": "application/json" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => (body += String(d)));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      });
      req.on("error", reject);
      req.end(JSON.stringify({ name, key: name, type: "MICROSERVICE" }));
    });
    expect(response.status).toBe(201);
    expect(response.location).toMatch(/\/application\/applications\/\d+$/);
    expect(response.body).toBe("");
  });

  it("refuses a duplicate name or key with 409", async () => {
    const app = await createApp();
    const again = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: app.name, key: "another-key", type: "MICROSERVICE" }),
    });
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ error: "applications/Duplicate" });
    const sameKey = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName(), key: app.key, type: "MICROSERVICE" }),
    });
    expect(sameKey.status).toBe(409);
  });

  it.each([
    ["an upper-case name", { name: "My-Service" }, "Microservice application name is incorrect: only lower case letters, digits and dashes allowed. Maximum length: 23."],
    ["a 24-character name", { name: "a".repeat(24) }, "Microservice application name is incorrect: only lower case letters, digits and dashes allowed. Maximum length: 23."],
    ["a context path with a space", { contextPath: "my service" }, "Application context path incorrect. Only word characters and /-._~ are allowed"],
  ])("refuses %s with 422 and the platform's text (platform.md §1.6)", async (_label, override, message) => {
    const name = uniqueName();
    const response = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, key: name, type: "MICROSERVICE", ...override }),
    });
    expect(response.status).toBe(422);
    expect(await json(response)).toMatchObject({ error: "application/Invalid Data", message });
  });

  it("refuses a body without key or type with 422, and a non-JSON body with 400", async () => {
    const missing = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName() }),
    });
    expect(missing.status).toBe(422);
    expect((await json(missing)).message).toContain("key");
    const broken = await sandbox.fetch("/application/applications", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(broken.status).toBe(400);
  });

  it("refuses writes of the read-only user with 403 and lets it read", async () => {
    const app = await createApp();
    const create = await sandbox.fetch("/application/applications", {
      method: "POST",
      as: "reader",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName(), key: uniqueName(), type: "MICROSERVICE" }),
    });
    expect(create.status).toBe(403);
    expect(await json(create)).toMatchObject(FORBIDDEN);
    const update = await sandbox.fetch(`/application/applications/${app.id}`, { method: "PUT", as: "reader", headers: { "content-type": "application/json" }, body: "{}" });
    expect(update.status).toBe(403);
    const remove = await sandbox.fetch(`/application/applications/${app.id}`, { method: "DELETE", as: "reader" });
    expect(remove.status).toBe(403);
    expect((await subscribeTenant(sandbox.owner, app.id, sandbox.reader)).status).toBe(403);
    expect((await sandbox.fetch(`/application/applications/${app.id}`, { as: "reader" })).status).toBe(200);
  });

  it("finds by name with 200 always: the application, or an empty list", async () => {
    const app = await createApp();
    const found = await json(await sandbox.fetch(`/application/applicationsByName/${app.name}`));
    expect(found.applications.map((a: { id: string }) => a.id)).toEqual([app.id]);
    const none = await sandbox.fetch("/application/applicationsByName/no-such-service");
    expect(none.status).toBe(200);
    expect((await json(none)).applications).toEqual([]);
  });

  it("queries by name, type and owner, and pages with self/next/prev and statistics", async () => {
    const apps = [await createApp(), await createApp(), await createApp()];
    const byName = await json(await sandbox.fetch(`/application/applications?name=${apps[1]!.name}&type=MICROSERVICE&owner=${sandbox.owner}`));
    expect(byName.applications.map((a: { id: string }) => a.id)).toEqual([apps[1]!.id]);
    expect((await json(await sandbox.fetch(`/application/applications?name=${apps[1]!.name}&type=HOSTED`))).applications).toEqual([]);

    const first = await json(await sandbox.fetch("/application/applications?type=MICROSERVICE&pageSize=2&withTotalPages=true&withTotalElements=true"));
    expect(first.applications).toHaveLength(2);
    expect(first.statistics).toMatchObject({ currentPage: 1, pageSize: 2 });
    expect(first.statistics.totalElements).toBeGreaterThanOrEqual(3);
    expect(first.statistics.totalPages).toBe(Math.ceil(first.statistics.totalElements / 2));
    expect(first.next).toContain("currentPage=2");
    expect(first.prev).toBeUndefined();
    const second = await json(await fetch(first.next, { headers: { authorization: basicAuth(sandbox.admin) } }));
    expect(second.statistics.currentPage).toBe(2);
    expect(second.prev).toContain("currentPage=1");
    expect(second.applications[0].id).not.toBe(first.applications[0].id);

    const bad = await sandbox.fetch("/application/applications?pageSize=zero");
    expect(bad.status).toBe(422);
  });

  it("gets one application, and 404 for an unknown id or one of another tenant", async () => {
    const app = await createApp();
    expect((await json(await sandbox.fetch(`/application/applications/${app.id}`))).name).toBe(app.name);
    const missing = await sandbox.fetch("/application/applications/99999999");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toBe("applications/Not Found");
    const sub = sandbox.subtenants[0]!;
    expect((await sandbox.fetch(`/application/applications/${app.id}`, { as: sandbox.subtenantAdmins[sub]! })).status).toBe(404);
  });

  it("updates roles and availability with PUT, validating like create", async () => {
    const app = await createApp();
    const response = await sandbox.fetch(`/application/applications/${app.id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requiredRoles: ["ROLE_ALARM_READ"], roles: ["ROLE_MY_SERVICE_READ"], availability: "MARKET", type: "HOSTED" }),
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ requiredRoles: ["ROLE_ALARM_READ"], roles: ["ROLE_MY_SERVICE_READ"], availability: "MARKET", type: "MICROSERVICE" });
    const invalid = await sandbox.fetch(`/application/applications/${app.id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contextPath: "a b" }),
    });
    expect(invalid.status).toBe(422);
  });

  it("deletes with 204; a MARKET application subscribed by another tenant needs force=true", async () => {
    const app = await createApp({ availability: "MARKET" });
    const sub = sandbox.subtenants[1]!;
    expect((await subscribeTenant(sub, app.id)).status).toBe(201);
    const refused = await sandbox.fetch(`/application/applications/${app.id}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect((await json(refused)).message).toContain("force=true");
    expect((await sandbox.fetch(`/application/applications/${app.id}?force=true`, { method: "DELETE" })).status).toBe(204);
    expect((await sandbox.fetch(`/application/applications/${app.id}`)).status).toBe(404);
    const subscriptions = await json(await sandbox.fetch(`/tenant/tenants/${sub}/applications`));
    expect(subscriptions.references.map((r: { application: { id: string } }) => r.application.id)).not.toContain(app.id);

    const plain = await createApp();
    expect((await sandbox.fetch(`/application/applications/${plain.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await sandbox.fetch(`/application/applications/${plain.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("gives the bootstrap user servicebootstrap_<name> to the owner's admin only", async () => {
    const app = await createApp();
    const bootstrap = await bootstrapOf(app.id);
    expect(bootstrap).toMatchObject({ tenant: sandbox.owner, user: `servicebootstrap_${app.name}` });
    expect((await sandbox.fetch(`/application/applications/${app.id}/bootstrapUser`, { as: "reader" })).status).toBe(403);
  });
});

describe("subscriptions, service users and the bootstrap user (platform.md §3.3 #8–#16, §4.4)", () => {
  it("subscribes with 201, refuses a second time with 409, lists, and unsubscribes with 204 then 404", async () => {
    const app = await createApp();
    const first = await subscribeTenant(sandbox.owner, app.id);
    expect(first.status).toBe(201);
    expect(await json(first)).toMatchObject({ application: { id: app.id } });
    const again = await subscribeTenant(sandbox.owner, app.id);
    expect(again.status).toBe(409);
    expect((await json(again)).message).toContain("already assigned");

    const list = await json(await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications?pageSize=2000`));
    expect(list.references.map((r: { application: { id: string } }) => r.application.id)).toContain(app.id);

    const bySelf = await createApp();
    const viaSelf = await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ application: { self: bySelf.self } }),
    });
    expect(viaSelf.status).toBe(201);

    expect((await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications/${app.id}`, { method: "DELETE" })).status).toBe(204);
    const gone = await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications/${app.id}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
    expect((await json(gone)).message).toContain("NOT assigned");
  });

  it("lets the parent subscribe its subtenants, but not a subtenant its parent", async () => {
    const app = await createApp();
    const [first, second] = sandbox.subtenants as [string, string];
    expect((await subscribeTenant(first, app.id)).status).toBe(201);
    const fromChild = await subscribeTenant(sandbox.owner, app.id, sandbox.subtenantAdmins[second]!);
    expect(fromChild.status).toBe(404);
    // A subtenant cannot see its parent's PRIVATE application, so it cannot subscribe itself.
    expect((await subscribeTenant(second, app.id, sandbox.subtenantAdmins[second]!)).status).toBe(404);
    const subscribed = await json(await sandbox.fetch(`/application/applications?subscriber=${first}`));
    expect(subscribed.applications.map((a: { id: string }) => a.id)).toContain(app.id);
  });

  it("refuses a reference without an application id with 422", async () => {
    const response = await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ application: {} }),
    });
    expect(response.status).toBe(422);
  });

  it("creates a service user per subscribed tenant with the required roles, listed for the bootstrap user", async () => {
    const app = await createApp({ requiredRoles: ["ROLE_INVENTORY_READ"] });
    const sub = sandbox.subtenants[0]!;
    await subscribeTenant(sandbox.owner, app.id);
    await subscribeTenant(sub, app.id);
    const bootstrap = await bootstrapOf(app.id);

    const subscriptions = await sandbox.fetch("/application/currentApplication/subscriptions", { as: bootstrap });
    expect(subscriptions.status).toBe(200);
    const users = (await json(subscriptions)).users as { tenant: string; name: string; password: string }[];
    expect(users.map((u) => u.tenant).sort()).toEqual([sandbox.owner, sub].sort());
    for (const user of users) expect(user.name).toBe(`service_${app.name}`);

    const serviceUser = { tenant: sub, user: users.find((u) => u.tenant === sub)!.name, password: users.find((u) => u.tenant === sub)!.password };
    const me = await json(await sandbox.fetch("/user/currentUser", { as: serviceUser }));
    expect(me.effectiveRoles.map((r: { id: string }) => r.id)).toEqual(["ROLE_INVENTORY_READ"]);
    const current = await sandbox.fetch("/application/currentApplication", { as: serviceUser });
    expect((await json(current)).id).toBe(app.id);
    // Service users hold only the required roles.
    expect((await sandbox.fetch("/application/applications", { as: serviceUser })).status).toBe(403);

    await sandbox.fetch(`/tenant/tenants/${sub}/applications/${app.id}`, { method: "DELETE" });
    expect((await sandbox.fetch("/user/currentUser", { as: serviceUser })).status).toBe(401);
    const after = (await json(await sandbox.fetch("/application/currentApplication/subscriptions", { as: bootstrap }))).users;
    expect(after.map((u: { tenant: string }) => u.tenant)).toEqual([sandbox.owner]);
  });

  it("allows the bootstrap user only its own endpoints", async () => {
    const app = await createApp();
    const bootstrap = await bootstrapOf(app.id);
    for (const path of ["/tenant/currentTenant", "/user/currentUser", "/application/currentApplication", "/application/currentApplication/subscriptions", "/application/currentApplication/settings"]) {
      expect((await sandbox.fetch(path, { as: bootstrap })).status, path).toBe(200);
    }
    for (const path of ["/application/applications", `/application/applications/${app.id}`, `/tenant/tenants/${sandbox.owner}/applications`, "/inventory/managedObjects"]) {
      const response = await sandbox.fetch(path, { as: bootstrap });
      expect(response.status, path).toBe(403);
      expect(await json(response)).toMatchObject(FORBIDDEN);
    }
    const subscribe = await subscribeTenant(sandbox.owner, app.id, bootstrap);
    expect(subscribe.status).toBe(403);
    expect((await sandbox.fetch("/application/currentApplication")).status).toBe(403);
  });

  it("gives the manifest settings as a key/value map and lets the bootstrap user update the application", async () => {
    const app = await createApp({ manifest: { settings: [{ key: "tracker-id", defaultValue: "1234" }] } });
    const bootstrap = await bootstrapOf(app.id);
    expect(await json(await sandbox.fetch("/application/currentApplication/settings", { as: bootstrap }))).toEqual({ "tracker-id": "1234" });
    const update = await sandbox.fetch("/application/currentApplication", {
      method: "PUT",
      as: bootstrap,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ roles: ["ROLE_X_READ"] }),
    });
    expect(update.status).toBe(200);
    expect((await json(update)).roles).toEqual(["ROLE_X_READ"]);
  });
});

describe("what one tenant's application may do to another tenant (issue 19)", () => {
  /** The service user of `tenant`, as the service gets it with its bootstrap credentials. */
  async function serviceUserOf(appId: string, tenant: string): Promise<SandboxUser> {
    const users = (await json(await sandbox.fetch("/application/currentApplication/subscriptions", { as: await bootstrapOf(appId) }))).users as { tenant: string; name: string; password: string }[];
    const user = users.find((u) => u.tenant === tenant)!;
    return { tenant: user.tenant, user: user.name, password: user.password };
  }
  const rolesOf = async (user: SandboxUser) => (await json(await sandbox.fetch("/user/currentUser", { as: user }))).effectiveRoles.map((r: { id: string }) => r.id);

  it("gives a subscribed tenant's service user new required roles only when that tenant subscribes again", async () => {
    const app = await createApp();
    const sub = sandbox.subtenants[0]!;
    expect((await subscribeTenant(sub, app.id)).status).toBe(201);
    const before = await serviceUserOf(app.id, sub);
    expect(await rolesOf(before)).toEqual([]);

    // The service itself may not widen its rights...
    const bootstrap = await bootstrapOf(app.id);
    const raised = await sandbox.fetch("/application/currentApplication", {
      method: "PUT",
      as: bootstrap,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requiredRoles: ["ROLE_TENANT_MANAGEMENT_ADMIN"] }),
    });
    expect(raised.status).toBe(403);
    expect((await json(await sandbox.fetch(`/application/applications/${app.id}`))).requiredRoles).toEqual([]);

    // ...and when the owner changes them, the subtenant's service user keeps what the subtenant granted.
    const owner = await sandbox.fetch(`/application/applications/${app.id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requiredRoles: ["ROLE_TENANT_MANAGEMENT_ADMIN"] }),
    });
    expect(owner.status).toBe(200);
    expect(await rolesOf(before)).toEqual([]);
    const subAdmin = sandbox.subtenantAdmins[sub]!;
    const asService = await sandbox.fetch(`/tenant/tenants/${sub}`, { as: before });
    expect(asService.status).toBe(403);

    // Subscribing again is the subtenant's consent.
    expect((await sandbox.fetch(`/tenant/tenants/${sub}/applications/${app.id}`, { method: "DELETE", as: subAdmin })).status).toBe(204);
    expect((await subscribeTenant(sub, app.id)).status).toBe(201);
    expect(await rolesOf(await serviceUserOf(app.id, sub))).toEqual(["ROLE_TENANT_MANAGEMENT_ADMIN"]);
  });

  it("answers an unsubscribe of another tenant's application exactly as one of an application that does not exist", async () => {
    const app = await createApp();
    const sub = sandbox.subtenants[0]!;
    const as = sandbox.subtenantAdmins[sub]!;
    const foreign = await sandbox.fetch(`/tenant/tenants/${sub}/applications/${app.id}`, { method: "DELETE", as });
    const absent = await sandbox.fetch(`/tenant/tenants/${sub}/applications/9999999`, { method: "DELETE", as });
    expect(foreign.status).toBe(404);
    expect(absent.status).toBe(404);
    expect((await json(foreign)).message.replace(app.id, "<id>")).toBe((await json(absent)).message.replace("9999999", "<id>"));
  });

  it("lets no subtenant block its owner's names or context paths, and names no other tenant's application in a 409", async () => {
    const sub = sandbox.subtenants[1]!;
    const as = sandbox.subtenantAdmins[sub]!;
    const name = uniqueName("claim");
    // The subtenant takes the name, key and context path first...
    const squat = await sandbox.fetch("/application/applications", {
      method: "POST",
      as,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, key: name, type: "MICROSERVICE", contextPath: name }),
    });
    expect(squat.status).toBe(201);
    // ...and the owner still creates its own.
    const owners = await sandbox.fetch("/application/applications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, key: name, type: "MICROSERVICE", contextPath: name }),
    });
    expect(owners.status).toBe(201);

    // The other way round the path is taken: the subtenant could be subscribed to its owner's service.
    const taken = await createApp({ contextPath: uniqueName("path") });
    const clash = await sandbox.fetch("/application/applications", {
      method: "POST",
      as,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName("late"), key: uniqueName("late-key"), type: "MICROSERVICE", contextPath: taken.contextPath }),
    });
    expect(clash.status).toBe(409);
    const message = (await json(clash)).message as string;
    expect(message).toBe(`The context path '${taken.contextPath}' is taken; choose another contextPath.`);
    expect(message).not.toContain(taken.name);

    // A tenant is never subscribed to two services at one path.
    expect((await subscribeTenant(sub, (await json(squat)).id, as)).status).toBe(201);
    const twice = await subscribeTenant(sub, (await json(owners)).id);
    expect(twice.status).toBe(409);
    expect((await json(twice)).message).toContain(`context path '${name}'`);
  });
});

describe("status managed object without an upload (platform.md §3.3 #17)", () => {
  it("finds nothing for an application that has no binary yet", async () => {
    const app = await createApp();
    const response = await sandbox.fetch(`/inventory/managedObjects?type=c8y_Application_${app.id}`);
    expect(response.status).toBe(200);
    expect((await json(response)).managedObjects).toEqual([]);
  });
});

describe("unknown routes", () => {
  it("answers 404 for an unknown path and 405 for a wrong method, in the error shape", async () => {
    const missing = await sandbox.fetch("/no/such/path");
    expect(missing.status).toBe(404);
    expect(await json(missing)).toHaveProperty("error");
    expect((await sandbox.fetch("/tenant/currentTenant", { method: "DELETE" })).status).toBe(405);
  });
});

describe("restart persistence", () => {
  it("keeps tenants, passwords, applications, subscriptions and tokens across a restart of the same data directory", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-restart-"));
    try {
      const first = await startSandbox({ dataDir });
      const name = uniqueName();
      const created = await first.fetch("/application/applications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, key: name, type: "MICROSERVICE" }),
      });
      const app = await json(created);
      await first.fetch(`/tenant/tenants/${first.owner}/applications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ application: { id: app.id } }),
      });
      const token = (
        await json(
          await fetch(`${first.url}/tenant/oauth/token?tenant_id=${first.owner}`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "PASSWORD", username: "admin", password: first.admin.password }).toString(),
          }),
        )
      ).access_token;
      await first.stop();

      const second = await startSandbox({ dataDir });
      try {
        expect(second.ready.tenants).toEqual(first.ready.tenants);
        expect(second.ready.users).toEqual(first.ready.users);
        const found = await json(await second.fetch(`/application/applicationsByName/${name}`));
        expect(found.applications[0].id).toBe(app.id);
        const subs = await json(await second.fetch(`/tenant/tenants/${second.owner}/applications`));
        expect(subs.references.map((r: { application: { id: string } }) => r.application.id)).toContain(app.id);
        const withToken = await fetch(`${second.url}/tenant/currentTenant`, { headers: { authorization: `Bearer ${token}` } });
        expect(withToken.status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
