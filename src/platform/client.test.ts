import { MockAgent } from "undici";
import { describe, expect, it } from "vitest";
import { AuthError, CliError, ExitCode } from "../errors.js";
import { Redactor } from "../secrets.js";
import { PlatformClient, userAgent, type ClientOptions } from "./client.js";
import type { Connection } from "./connection.js";
import { NetworkError, PlatformError } from "./errors.js";

const ORIGIN = "https://example.cumulocity.com";

function basicConnection(overrides: Partial<Connection> = {}): Connection {
  return {
    baseUrl: new URL(ORIGIN),
    urlFrom: "C8Y_HOST (environment)",
    tenant: undefined,
    credentials: { kind: "basic", user: "admin", password: "s3cret-pass" },
    source: { kind: "basic", names: ["C8Y_USER (environment)", "C8Y_PASSWORD (environment)", "C8Y_TENANT (not set; looked up)"], principal: "admin" },
    ...overrides,
  };
}

interface Harness {
  client: PlatformClient;
  mock: MockAgent;
  pool: ReturnType<MockAgent["get"]>;
  warnings: string[];
  debug: string[];
  delays: number[];
  redactor: Redactor;
}

function harness(connection = basicConnection(), options: Partial<ClientOptions> = {}): Harness {
  const mock = new MockAgent();
  mock.disableNetConnect();
  const warnings: string[] = [];
  const debug: string[] = [];
  const delays: number[] = [];
  const redactor = new Redactor();
  const client = new PlatformClient({
    connection,
    dispatcher: mock,
    logger: { warn: (m) => warnings.push(m), debug: (m) => debug.push(m) },
    redactor,
    userAgent: userAgent("1.2.3"),
    sleep: async (ms) => {
      delays.push(ms);
    },
    retry: { random: () => 0.5 },
    ...options,
  });
  return { client, mock, pool: mock.get(new URL(connection.baseUrl).origin), warnings, debug, delays, redactor };
}

const json = { "content-type": "application/json" };
const errorJson = { "content-type": "application/vnd.com.nsn.cumulocity.error+json;charset=UTF-8;ver=0.9" };

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe("PlatformClient requests", () => {
  it("sends Basic auth as tenant/user once the tenant is known, a c8y-ms user agent, and Accept", async () => {
    const { client, pool, redactor } = harness();
    const seen: Record<string, string>[] = [];
    pool
      .intercept({ path: "/tenant/currentTenant" })
      .reply((opts) => {
        seen.push(opts.headers as Record<string, string>);
        return { statusCode: 200, data: { name: "t100" }, responseOptions: { headers: json } };
      })
      .times(2);
    await client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" });
    client.useTenant("t100");
    await client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" });

    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from("admin:s3cret-pass").toString("base64")}`);
    expect(seen[1]?.authorization).toBe(`Basic ${Buffer.from("t100/admin:s3cret-pass").toString("base64")}`);
    expect(seen[1]?.["user-agent"]).toMatch(/^c8y-ms\/1\.2\.3 \(node \d+\.\d+\.\d+; [a-z0-9]+\)$/);
    expect(seen[1]?.accept).toBe("application/json");
    // Both header forms and the password are masked wherever c8y-ms prints.
    expect(redactor.redact(`${seen[0]?.authorization} ${seen[1]?.authorization} s3cret-pass`)).toBe("Basic *** Basic *** ***");
  });

  it("sends a bearer token when the connection has one", async () => {
    const connection = basicConnection({ credentials: { kind: "bearer", token: "eyJtoken.part.sig" }, source: { kind: "bearer", names: ["C8Y_TOKEN (environment)"], principal: "the token" } });
    const { client, pool, redactor } = harness(connection);
    let auth = "";
    pool.intercept({ path: "/user/currentUser" }).reply((opts) => {
      auth = (opts.headers as Record<string, string>).authorization ?? "";
      return { statusCode: 200, data: "{}", responseOptions: { headers: json } };
    });
    await client.json({ method: "GET", path: "/user/currentUser", action: "read" });
    expect(auth).toBe("Bearer eyJtoken.part.sig");
    expect(redactor.redact(auth)).toBe("Bearer ***");
  });

  it("keeps a path prefix of the base URL and encodes the query", async () => {
    const { client, pool } = harness(basicConnection({ baseUrl: new URL("https://example.cumulocity.com/platform") }));
    pool.intercept({ path: "/platform/application/applications?name=my+app&pageSize=2000" }).reply(200, { applications: [] }, { headers: json });
    const body = await client.json({ method: "GET", path: "/application/applications", query: { name: "my app", pageSize: 2000, owner: undefined }, action: "list" });
    expect(body).toEqual({ applications: [] });
  });

  it("logs method, URL, status and time with --verbose, and never a header", async () => {
    const { client, pool, debug } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).reply(200, { name: "t1" }, { headers: json });
    await client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" });
    expect(debug).toHaveLength(1);
    expect(debug[0]).toMatch(/^GET https:\/\/example\.cumulocity\.com\/tenant\/currentTenant → 200 \(\d+ ms\)$/);
  });
});

describe("PlatformClient error mapping (spec/cli.md exit codes)", () => {
  it("401 is exit 4 and names the variables the credentials came from", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).reply(401, { error: "security/Unauthorized", message: "Invalid credentials! : Bad credentials" }, { headers: errorJson });
    const error = await failure(client.json({ method: "GET", path: "/tenant/currentTenant", action: "read the current tenant" }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.exitCode).toBe(ExitCode.Auth);
    expect(error.message).toBe("The platform rejected the credentials of admin (401): Invalid credentials! : Bad credentials");
    expect(error.hint).toContain("C8Y_USER (environment), C8Y_PASSWORD (environment)");
  });

  it("a two-factor user is told to use a token (platform.md §3.2)", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).reply(401, { error: "security/Unauthorized", message: "TFA TOTP code required" }, { headers: errorJson });
    const error = await failure(client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" }));
    expect(error.exitCode).toBe(ExitCode.Auth);
    expect(error.message).toContain("two-factor");
    expect(error.hint).toContain("C8Y_TOKEN");
  });

  it("403 is exit 4 and names the missing role", async () => {
    const { client, pool } = harness();
    client.useTenant("t100");
    pool.intercept({ path: "/application/applications", method: "POST" }).reply(403, { error: "security/Forbidden", message: "Access is denied" }, { headers: errorJson });
    const error = await failure(
      client.json({ method: "POST", path: "/application/applications", json: {}, action: "create the application x", role: "ROLE_APPLICATION_MANAGEMENT_ADMIN" }),
    );
    expect(error.exitCode).toBe(ExitCode.Auth);
    expect(error.message).toBe("Not allowed to create the application x (403): Access is denied");
    expect(error.hint).toContain("t100/admin lacks the role ROLE_APPLICATION_MANAGEMENT_ADMIN");
  });

  it("422 carries the platform's message verbatim", async () => {
    const { client, pool } = harness();
    const message = 'Microservice version string "1.0" is not valid, must be correct "semantic version"';
    pool.intercept({ path: "/application/applications/7/binaries", method: "POST" }).reply(422, { error: "application/Invalid Data", message }, { headers: errorJson });
    const error = await failure(client.json({ method: "POST", path: "/application/applications/7/binaries", json: {}, action: "upload x.zip to x" }));
    expect(error).toBeInstanceOf(PlatformError);
    expect(error.exitCode).toBe(ExitCode.Failure);
    expect(error.message).toBe(`The platform rejected the request to upload x.zip to x (422): ${message}`);
  });

  it("413 explains the 500 MB limit and how to shrink the image", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/application/applications/7/binaries", method: "POST" }).reply(413, "<html><body><h1>413 Request Entity Too Large</h1></body></html>", {
      headers: { "content-type": "text/html" },
    });
    const error = await failure(client.json({ method: "POST", path: "/application/applications/7/binaries", json: {}, action: "upload" }));
    expect(error.message).toBe("The platform refused the upload as too large (413): 413 Request Entity Too Large");
    expect(error.hint).toContain("500 MB");
    expect(error.hint).toMatch(/base image/);
  });

  it("a refused connection names the URL and the cause, after retrying", async () => {
    const { client, pool, delays } = harness();
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" });
    pool.intercept({ path: "/tenant/currentTenant" }).replyWithError(refused).times(4);
    const error = await failure(client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe("Could not reach https://example.cumulocity.com/tenant/currentTenant: connection refused by example.cumulocity.com: nothing listens there (ECONNREFUSED).");
    expect(error.hint).toContain("C8Y_HOST (environment)");
    expect(delays).toHaveLength(3);
  });

  it("an unknown host is not retried", async () => {
    const { client, pool, delays } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).replyWithError(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }));
    const error = await failure(client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" }));
    expect(error.message).toContain("the host name example.cumulocity.com was not found (ENOTFOUND)");
    expect(delays).toEqual([]);
  });

  it("an untrusted certificate points to NODE_EXTRA_CA_CERTS", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).replyWithError(Object.assign(new Error("self-signed certificate in certificate chain"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }));
    const error = await failure(client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" }));
    expect(error.hint).toContain("NODE_EXTRA_CA_CERTS");
  });
});

describe("PlatformClient retries", () => {
  it("retries a GET after 503 with exponential backoff and jitter, then succeeds", async () => {
    const { client, pool, delays, warnings } = harness();
    pool.intercept({ path: "/tenant/currentTenant" }).reply(503, { error: "general/serviceUnavailable", message: "down" }, { headers: errorJson }).times(2);
    pool.intercept({ path: "/tenant/currentTenant" }).reply(200, { name: "t9" }, { headers: json });
    expect(await client.json({ method: "GET", path: "/tenant/currentTenant", action: "read" })).toEqual({ name: "t9" });
    // random() = 0.5 puts each delay at 3/4 of 500 ms * 2^(n-1).
    expect(delays).toEqual([375, 750]);
    expect(warnings[0]).toBe("GET /tenant/currentTenant: answered 503; retrying in 0.4s (attempt 2 of 4).");
  });

  it("gives up after the last attempt with the platform's status", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/x" }).reply(502, "bad gateway").times(4);
    const error = await failure(client.json({ method: "GET", path: "/x", action: "read x" }));
    expect(error.message).toBe("The platform is unavailable: read x answered 502: bad gateway");
  });

  it("waits at least as long as 429 Retry-After asks", async () => {
    const { client, pool, delays } = harness();
    pool.intercept({ path: "/x" }).reply(429, "{}", { headers: { ...json, "retry-after": "3" } });
    pool.intercept({ path: "/x" }).reply(200, "{}", { headers: json });
    await client.json({ method: "GET", path: "/x", action: "read" });
    expect(delays).toEqual([3000]);
  });

  it("does not wait for a Retry-After beyond a minute", async () => {
    const { client, pool, delays } = harness();
    pool.intercept({ path: "/x" }).reply(429, "{}", { headers: { ...json, "retry-after": "3600" } });
    const error = await failure(client.json({ method: "GET", path: "/x", action: "read" }));
    expect(error.message).toContain("answered 429");
    expect(delays).toEqual([]);
  });

  it("does not retry a POST after a reset unless it can check that it did not land", async () => {
    const { client, pool, delays } = harness();
    pool.intercept({ path: "/a", method: "POST" }).replyWithError(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    const error = await failure(client.json({ method: "POST", path: "/a", json: {}, action: "create a" }));
    expect(error.message).toContain("(UND_ERR_SOCKET)");
    expect(delays).toEqual([]);
  });

  it("retries a POST after a reset when it did not land, and returns what landed when it did", async () => {
    const { client, pool, warnings } = harness();
    pool.intercept({ path: "/a", method: "POST" }).replyWithError(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    pool.intercept({ path: "/a", method: "POST" }).reply(201, { id: "1" }, { headers: json });
    let checks = 0;
    const notLanded = await client.send({ method: "POST", path: "/a", json: {}, action: "create", landed: async () => (checks++, undefined) });
    expect(notLanded).toEqual({ status: 201, body: { id: "1" }, recovered: false });
    expect(checks).toBe(1);

    pool.intercept({ path: "/a", method: "POST" }).reply(504, "timeout");
    const landed = await client.send({ method: "POST", path: "/a", json: {}, action: "create", landed: async () => ({ id: "2" }) });
    expect(landed).toEqual({ status: 200, body: { id: "2" }, recovered: true });
    expect(warnings.at(-1)).toBe("POST /a failed (answered 504), but the platform shows that it took effect.");
  });

  it("returns allowed error statuses to the caller instead of throwing", async () => {
    const { client, pool } = harness();
    pool.intercept({ path: "/tenant/tenants/t1/applications", method: "POST" }).reply(409, { message: "already assigned" }, { headers: errorJson });
    const response = await client.send({ method: "POST", path: "/tenant/tenants/t1/applications", json: {}, allow: [409], action: "subscribe" });
    expect(response.status).toBe(409);
  });

  it("turns an aborted request into an interruption", async () => {
    const controller = new AbortController();
    const { client, pool } = harness(basicConnection(), { signal: controller.signal });
    pool.intercept({ path: "/x" }).reply(200, "{}", { headers: json }).delay(500);
    const pending = client.json({ method: "GET", path: "/x", action: "read" });
    controller.abort();
    const error = await failure(pending);
    expect(error.exitCode).toBe(ExitCode.Interrupted);
  });
});
