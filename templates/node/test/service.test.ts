import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Credentials } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { basicAuth, Platform } from "../src/platform.js";
import { createService } from "../src/server.js";
import { fixedServiceUser, subscribedServiceUsers, type ServiceUsers } from "../src/service-users.js";
import { startFakePlatform, type FakePlatform } from "./fake-platform.js";

const quiet = createLogger(() => {});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("MULTI_TENANT", () => {
  let platform: FakePlatform;
  let serviceUsers: ServiceUsers;
  let server: Server;
  let url: string;
  let alice: Credentials;
  let bob: Credentials;

  before(async () => {
    platform = await startFakePlatform();
    [alice, bob] = platform.users as [Credentials, Credentials];
    const client = new Platform(platform.url);
    serviceUsers = subscribedServiceUsers(() => client.serviceUsers(platform.bootstrap), quiet);
    server = createService({ platform: client, serviceUsers, log: quiet });
    url = await listen(server);
    await serviceUsers.forTenant(alice.tenant);
  });
  after(async () => {
    serviceUsers.stop();
    server.close();
    await platform.close();
  });
  beforeEach(() => {
    platform.requests.length = 0;
  });

  test("GET /health answers UP as JSON without asking the platform", async () => {
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { status: "UP" });
    assert.deepEqual(platform.requests, []);
  });

  test("GET /hello checks the caller and acts in the caller's tenant as its service user", async () => {
    const response = await fetch(`${url}/hello`, basicAuth(alice));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      message: "Hello alice of tenant t100!",
      caller: { tenant: "t100", user: "alice" },
      serviceUser: { tenant: "t100", user: "service_my-service", domain: "t100.example.com" },
    });
    assert.ok(platform.requests.includes("GET /user/currentUser as t100/alice"));
    assert.ok(platform.requests.includes("GET /tenant/currentTenant as t100/service_my-service"));
  });

  test("GET /hello without credentials is 401 and never reaches the platform", async () => {
    const response = await fetch(`${url}/hello`);
    assert.equal(response.status, 401);
    assert.deepEqual(platform.requests, []);
  });

  test("GET /hello with a wrong password is 401", async () => {
    const response = await fetch(`${url}/hello`, basicAuth({ ...alice, password: "wrong" }));
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "The platform did not accept these credentials." });
  });

  test("the browser's authorization cookie is forwarded as a bearer token", async () => {
    platform.tokens.set("jwt-of-alice", alice);
    const response = await fetch(`${url}/hello`, { headers: { cookie: "XSRF-TOKEN=abc; authorization=jwt-of-alice" } });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { caller: { user: string } }).caller.user, "alice");
  });

  test("a tenant subscribed after start is served at once: its service user is read on demand", async () => {
    platform.serviceUsers.push({ tenant: "t200", user: "service_my-service", password: "service-t200" });
    const response = await fetch(`${url}/hello`, basicAuth(bob));
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { serviceUser: unknown }).serviceUser, {
      tenant: "t200",
      user: "service_my-service",
      domain: "t200.example.com",
    });
    assert.ok(platform.requests.includes("GET /application/currentApplication/subscriptions as t100/servicebootstrap_my-service"));
  });

  test("a caller from a tenant that is not subscribed gets 403", async () => {
    const carol = platform.users[2]!;
    const response = await fetch(`${url}/hello`, basicAuth(carol));
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { error: "Tenant t300 is not subscribed to this service." });
  });

  test("a service user whose password changed (resubscribed tenant) is read again and the call retried", async () => {
    await fetch(`${url}/hello`, basicAuth(alice));
    platform.serviceUsers[0]!.password = "service-t100-renewed";
    const response = await fetch(`${url}/hello`, basicAuth(alice));
    assert.equal(response.status, 200);
    assert.ok(platform.requests.includes("GET /tenant/currentTenant as anonymous"), "the old password was tried first");
  });

  test("unknown paths are 404 and other methods 405, as JSON", async () => {
    const missing = await fetch(`${url}/nothing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "Nothing at /nothing." });
    const post = await fetch(`${url}/health`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });
});

describe("PER_TENANT", () => {
  test("acts with the one service user it was given and refuses other tenants", async () => {
    const platform = await startFakePlatform();
    const server = createService({
      platform: new Platform(platform.url),
      serviceUsers: fixedServiceUser(platform.serviceUsers[0]!),
      log: quiet,
    });
    const url = await listen(server);
    try {
      const own = await fetch(`${url}/hello`, basicAuth(platform.users[0]!));
      assert.equal(own.status, 200);
      const other = await fetch(`${url}/hello`, basicAuth(platform.users[1]!));
      assert.equal(other.status, 403);
      assert.ok(!platform.requests.some((r) => r.includes("/subscriptions")), "PER_TENANT never lists subscriptions");
    } finally {
      server.close();
      await platform.close();
    }
  });
});

test("a platform that cannot be reached gives 502, not a crash", async () => {
  const platform = await startFakePlatform();
  const gone = platform.url;
  await platform.close();
  const server = createService({ platform: new Platform(gone), serviceUsers: fixedServiceUser(platform.serviceUsers[0]!), log: quiet });
  const url = await listen(server);
  try {
    const response = await fetch(`${url}/hello`, basicAuth(platform.users[0]!));
    assert.equal(response.status, 502);
    assert.deepEqual(await response.json(), { error: "The platform did not answer as expected; try again." });
  } finally {
    server.close();
  }
});
