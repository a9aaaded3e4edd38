import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { socketAddress, type Endpoint } from "./runtime.js";

/**
 * Kubernetes-style probes as the manifest declares them (platform.md §1.5): one action
 * (httpGet, tcpSocket or exec), with delays and thresholds. HTTP success is 200–399.
 */
export interface ProbeSpec {
  httpGet?: { path?: string; port?: number; scheme?: string; headers?: { name: string; value: string }[] };
  tcpSocket?: { port?: number };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The platform's defaults (platform.md §1.5; timeoutSeconds 1 as the docs and client model say). */
export function probeTiming(spec: ProbeSpec): ProbeTiming {
  const whole = (value: unknown, fallback: number, min: number) => (typeof value === "number" && Number.isInteger(value) && value >= min ? value : fallback);
  return {
    initialDelayMs: whole(spec.initialDelaySeconds, 0, 0) * 1000,
    periodMs: whole(spec.periodSeconds, 10, 1) * 1000,
    timeoutMs: whole(spec.timeoutSeconds, 1, 1) * 1000,
    successThreshold: whole(spec.successThreshold, 1, 1),
    failureThreshold: whole(spec.failureThreshold, 3, 1),
  };
}

/** The container port a probe checks (80 unless set), or undefined for exec probes. */
export function probePort(spec: ProbeSpec): number | undefined {
  if (spec.httpGet) return spec.httpGet.port ?? 80;
  if (spec.tcpSocket) return spec.tcpSocket.port ?? 80;
  return undefined;
}

export interface ProbeTarget {
  /** Where the probe's container port answers. */
  endpoint: Endpoint;
  /** Runs an exec probe's command inside the container; true when it exits 0. */
  exec(command: string[], timeoutMs: number): Promise<boolean>;
}

export async function runProbe(spec: ProbeSpec, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (spec.httpGet) return httpProbe(spec.httpGet, target.endpoint, timeoutMs);
  if (spec.tcpSocket) return tcpProbe(target.endpoint, timeoutMs);
  if (spec.exec?.command?.length) return target.exec(spec.exec.command, timeoutMs);
  return true;
}

function httpProbe(action: NonNullable<ProbeSpec["httpGet"]>, endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  const https = action.scheme?.toUpperCase() === "HTTPS";
  const headers = Object.fromEntries((action.headers ?? []).map((h) => [h.name, h.value]));
  return new Promise((resolve) => {
    const request = (https ? httpsRequest : httpRequest)(
      { ...endpoint, path: action.path ?? "/", method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(status >= 200 && status < 400);
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
    request.end();
  });
}

function tcpProbe(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ ...socketAddress(endpoint), timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Consecutive results against thresholds, like the kubelet: `passing` flips to true after
 * successThreshold successes in a row and to false after failureThreshold failures in a row.
 */
export class ProbeState {
  passing: boolean;
  #successes = 0;
  #failures = 0;
  readonly #timing: ProbeTiming;

  constructor(timing: ProbeTiming, initiallyPassing: boolean) {
    this.#timing = timing;
    this.passing = initiallyPassing;
  }

  /** @returns true when this result flipped `passing` to false. */
  record(success: boolean): boolean {
    if (success) {
      this.#failures = 0;
      this.#successes++;
      if (this.#successes >= this.#timing.successThreshold) this.passing = true;
      return false;
    }
    this.#successes = 0;
    this.#failures++;
    if (this.passing && this.#failures >= this.#timing.failureThreshold) {
      this.passing = false;
      return true;
    }
    return false;
  }

  reset(initiallyPassing: boolean): void {
    this.#successes = 0;
    this.#failures = 0;
    this.passing = initiallyPassing;
  }
}
