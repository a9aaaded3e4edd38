import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyDocument, startSandboxServer, type ReadyDocument, type RunningSandbox } from "./server.js";
import type { ServiceRuntime } from "./runtime.js";

/**
 * The gateway `/service/<contextPath>/...` (platform.md §4.3, §6.9) over HTTP, without a
 * container engine: the runtime points at an echo server that reports what it received.
 */
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let sandbox: RunningSandbox;
let ready: ReadyDocument;
let echo: Server;
let dataDir: string;
/** The service answers at this port; undefined: the runtime says nothing runs. */
let servicePort: number | undefined;
/** When set, the service answers on this unix socket instead (an isolated service's relay). */
let serviceSocket: string | undefined;
const received: Received[] = [];

beforeAll(async () => {
  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(201, { "content-type": "text/plain", "x-service": "echo", connection: "keep-alive" }).end(`echo ${req.url}`);
    });
  });
  await new Promise<void>((done) => echo.listen(0, "127.0.0.1", done));
  const echoPort = (echo.address() as AddressInfo).port;
  servicePort = echoPort;
  dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-gateway-"));
  const runtime: ServiceRuntime = {
    reconcile: () => {},
    status: () => ({ status: "Up", lastUpdated: new Date().toISOString(), desired: 1, instances: [] }),
    logs: async () => undefined,
    target: () => (serviceSocket ? { socketPath: serviceSocket } : servicePort === undefined ? "The service is still starting." : { host: "127.0.0.1", port: servicePort }),
    close: async () => {},
  };
  sandbox = await startSandboxServer({ dataDir, port: 0, uploadLimit: 1024, logger: { debug: () => {}, warn: () => {} }, faults: false, createRuntime: () => runtime });
  ready = readyDocument(sandbox.store, sandbox.url, { containers: true, faults: false, uploadLimit: 1024 });
});
afterAll(async () => {
  await sandbox?.close();
  echo?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const login = (tenant: string) => {
  const user = ready.users.find((u) => u.tenant === tenant && u.role === "admin")!;
  return `Basic ${Buffer.from(`${user.tenant}/${user.user}:${user.password}`).toString("base64")}`;
};
const owner = () => ready.tenants.find((t) => t.parent === null)!.id;
const subtenant = () => ready.tenants.find((t) => t.parent !== null)!.id;

async function api(path: string, init: RequestInit & { as?: string } = {}): Promise<Response> {
  return fetch(`${sandbox.url}${path}`, { ...init, headers: { accept: "application/json", "content-type": "application/json", authorization: login(init.as ?? owner()), ...(init.headers as Record<string, string>) } });
}

async function subscribedService(name: string, contextPath?: string): Promise<string> {
  const created = await api("/application/applications", { method: "POST", body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE", ...(contextPath ? { contextPath } : {}) }) });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const subscribed = await api(`/tenant/tenants/${owner()}/applications`, { method: "POST", body: JSON.stringify({ application: { id } }) });
  expect(subscribed.status).toBe(201);
  return id;
}

describe("the gateway /service/<contextPath>/", () => {
  it("forwards with the prefix stripped, the query and body as sent, Authorization kept and x-forwarded-* added", async () => {
    await subscribedService("gw-echo");
    received.length = 0;
    const authorization = login(owner());
    const response = await fetch(`${sandbox.url}/service/gw-echo/a/b%20c?x=1&y=2`, { method: "POST", headers: { authorization, "content-type": "text/plain" }, body: "payload" });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-service")).toBe("echo");
    expect(await response.text()).toBe("echo /a/b%20c?x=1&y=2");
    const [got] = received;
    expect(got).toMatchObject({ method: "POST", url: "/a/b%20c?x=1&y=2", body: "payload" });
    expect(got?.headers.authorization).toBe(authorization);
    expect(got?.headers).toMatchObject({ "x-forwarded-prefix": "/service/gw-echo", "x-forwarded-proto": "http", "x-forwarded-host": new URL(sandbox.url).host, "x-real-ip": "127.0.0.1" });
  });

  it("answers the service root for /service/<name> and keeps a bearer token or cookie as sent", async () => {
    received.length = 0;
    const token = await fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${owner()}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "PASSWORD", username: "admin", password: ready.users.find((u) => u.tenant === owner() && u.role === "admin")!.password }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const response = await fetch(`${sandbox.url}/service/gw-echo?only=query`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(response.status).toBe(201);
    expect(received[0]).toMatchObject({ method: "GET", url: "/?only=query" });
    expect(received[0]?.headers.authorization).toBe(`Bearer ${token.access_token}`);
  });

  it("routes by contextPath when the application has one", async () => {
    await subscribedService("gw-named", "gw-ctx");
    received.length = 0;
    expect((await fetch(`${sandbox.url}/service/gw-ctx/health`, { headers: { authorization: login(owner()) } })).status).toBe(201);
    expect(received[0]?.headers["x-forwarded-prefix"]).toBe("/service/gw-ctx");
    const byName = await fetch(`${sandbox.url}/service/gw-named/health`, { headers: { authorization: login(owner()) } });
    expect(byName.status).toBe(404);
  });

  it("refuses without credentials (401), for an unknown service (404) and for a tenant that is not subscribed (403), as platform errors", async () => {
    received.length = 0;
    const anonymous = await fetch(`${sandbox.url}/service/gw-echo/health`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: "general/internalError", message: "No auth information found" });
    const unknown = await fetch(`${sandbox.url}/service/gw-nothing/health`, { headers: { authorization: login(owner()) } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "general/notFound", message: "Microservice/gw-nothing not found." });
    const other = await fetch(`${sandbox.url}/service/gw-echo/health`, { headers: { authorization: login(subtenant()) } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { message: string }).message).toContain(`Tenant ${subtenant()} is not subscribed to microservice gw-echo`);
    expect(received).toEqual([]);
  });

  it("answers 503 when nothing runs, and when the service does not answer", async () => {
    servicePort = undefined;
    const starting = await fetch(`${sandbox.url}/service/gw-echo/health`, { headers: { authorization: login(owner()) } });
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ error: "microservice/unavailable", message: "The service is still starting." });

    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    servicePort = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const silent = await fetch(`${sandbox.url}/service/gw-echo/health`, { headers: { authorization: login(owner()) } });
    expect(silent.status).toBe(503);
    expect(((await silent.json()) as { error: string }).error).toBe("microservice/unavailable");
    servicePort = (echo.address() as AddressInfo).port;
  });

  it("reaches a service through a unix socket, as an isolated service's relay serves it, WebSockets included", async () => {
    const socketPath = join(dataDir, "relay.sock");
    const relayed = createServer((req, res) => res.end(`relayed ${req.url}`));
    relayed.on("upgrade", (_req, socket) => {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      socket.pipe(socket);
    });
    await new Promise<void>((done) => relayed.listen(socketPath, done));
    serviceSocket = socketPath;
    try {
      const response = await fetch(`${sandbox.url}/service/gw-echo/via/socket`, { headers: { authorization: login(owner()) } });
      expect(await response.text()).toBe("relayed /via/socket");
      const echoed = await new Promise<string>((resolve, reject) => {
        const req = request(`${sandbox.url}/service/gw-echo/ws`, { headers: { authorization: login(owner()), connection: "Upgrade", upgrade: "websocket" } });
        req.on("upgrade", (_res, socket) => {
          socket.once("data", (data) => {
            socket.destroy();
            resolve(String(data));
          });
          socket.write("ping");
        });
        req.on("error", reject);
        req.end();
      });
      expect(echoed).toBe("ping");
    } finally {
      serviceSocket = undefined;
      relayed.close();
    }
  });
});
