import { describe, expect, it } from "vitest";
import { probePort, probeTiming, ProbeState } from "./probes.js";

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
