import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probePort, probeTiming, ProbeState, runProbe } from "./probes.js";

describe("probeTiming (platform.md §1.5 defaults)", () => {
  it("fills the platform's defaults", () => {
    expect(probeTiming({ httpGet: { path: "/health" } })).toEqual({ initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1_000, successThreshold: 1, failureThreshold: 3 });
  });
  it("takes the manifest's values and ignores invalid ones", () => {
    expect(probeTiming({ initialDelaySeconds: 20, periodSeconds: 5, timeoutSeconds: 0, failureThreshold: 2 })).toMatchObject({
      initialDelayMs: 20_000,
      periodMs: 5_000,
      timeoutMs: 1_000,
      failureThreshold: 2,
    });
  });
});

describe("probePort", () => {
  it("is 80 unless set, and none for exec", () => {
    expect(probePort({ httpGet: { path: "/" } })).toBe(80);
    expect(probePort({ tcpSocket: { port: 8080 } })).toBe(8080);
    expect(probePort({ exec: { command: ["true"] } })).toBeUndefined();
  });
});

describe("ProbeState (kubelet thresholds)", () => {
  const timing = probeTiming({ successThreshold: 2, failureThreshold: 3 });

  it("becomes ready after successThreshold successes in a row", () => {
    const readiness = new ProbeState(timing, false);
    readiness.record(true);
    expect(readiness.passing).toBe(false);
    readiness.record(false);
    readiness.record(true);
    expect(readiness.passing).toBe(false);
    readiness.record(true);
    expect(readiness.passing).toBe(true);
  });

  it("fails after failureThreshold failures in a row and says so once", () => {
    const liveness = new ProbeState(timing, true);
    expect([liveness.record(false), liveness.record(false), liveness.record(true)]).toEqual([false, false, false]);
    expect([liveness.record(false), liveness.record(false), liveness.record(false), liveness.record(false)]).toEqual([false, false, true, false]);
    expect(liveness.passing).toBe(false);
  });
});

describe("runProbe against a real server", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/slow") return void setTimeout(() => res.end(), 2000);
      res.statusCode = req.url === "/health" ? 200 : req.url === "/moved" ? 302 : req.headers["x-probe"] === "yes" ? 204 : 500;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const target = (p: number) => ({ endpoint: { host: "127.0.0.1", port: p }, exec: async (command: string[]) => command[0] === "true" });

  it.each([
    ["/health", true],
    ["/moved", true],
    ["/broken", false],
  ])("httpGet %s passes: %s (2xx and 3xx pass)", async (path, expected) => {
    expect(await runProbe({ httpGet: { path } }, target(port), 1000)).toBe(expected);
  });

  it("sends the probe's headers", async () => {
    expect(await runProbe({ httpGet: { path: "/other", headers: [{ name: "x-probe", value: "yes" }] } }, target(port), 1000)).toBe(true);
  });

  it("fails an httpGet that takes longer than its timeout", async () => {
    expect(await runProbe({ httpGet: { path: "/slow" } }, target(port), 200)).toBe(false);
  });

  it("passes tcpSocket on a listening port and fails on a closed one", async () => {
    expect(await runProbe({ tcpSocket: { port: 80 } }, target(port), 1000)).toBe(true);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await runProbe({ tcpSocket: { port: 80 } }, target(closedPort), 1000)).toBe(false);
  });

  it("runs exec probes through the target", async () => {
    expect(await runProbe({ exec: { command: ["true"] } }, target(port), 1000)).toBe(true);
    expect(await runProbe({ exec: { command: ["false"] } }, target(port), 1000)).toBe(false);
  });
});
