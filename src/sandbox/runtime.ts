import type { ApplicationRecord } from "./state.js";

/** platform.md §3.3 #17: what the status managed object reports. */
export type ServiceHealth = "Up" | "Unhealthy" | "Down" | "Unknown";

export interface InstanceStatus {
  /** Like the platform's `<name>-scope-<tenant>-deployment-<hash>-<suffix>`; the logs endpoint takes it. */
  name: string;
  /** The subscribed tenant a PER_TENANT instance serves; undefined for a shared (MULTI_TENANT) one. */
  tenant: string | undefined;
  running: boolean;
  ready: boolean;
  restarts: number;
  lastUpdated: string;
}

export interface ServiceStatus {
  status: ServiceHealth;
  lastUpdated: string;
  /** Instances that should run: replicas, times subscribed tenants for PER_TENANT. */
  desired: number;
  instances: InstanceStatus[];
  /** Why the service is not Up, for people reading the status (e.g. a failed image load). */
  reason?: string;
}

/** platform.md §3.3 #18. */
export interface LogsDocument {
  dateFrom: string;
  dateTo: string;
  logs: string;
  truncated: boolean;
}

/** Where a service (or one of its ports) answers: a port on 127.0.0.1, or a unix socket the relay serves (relay.ts). */
export type Endpoint = { host: string; port: number } | { socketPath: string };

/** An Endpoint as node:net's connect takes it. */
export function socketAddress(endpoint: Endpoint): { host: string; port: number } | { path: string } {
  return "socketPath" in endpoint ? { path: endpoint.socketPath } : endpoint;
}

/**
 * Up when every desired instance is ready, Unhealthy when some are, Down when none is
 * (platform.md §3.3 #17, #19). Nothing desired (no tenant subscribed) is Unknown: there is no
 * deployment to judge.
 */
export function healthOf(instances: readonly InstanceStatus[], desired: number): ServiceHealth {
  if (desired === 0) return "Unknown";
  const ready = instances.filter((i) => i.running && i.ready).length;
  if (ready >= desired) return "Up";
  return ready > 0 ? "Unhealthy" : "Down";
}

/** Runs uploaded services; the routes only tell it what changed and ask what runs. */
export interface ServiceRuntime {
  /** Bring the service in line with its application (version, subscriptions, deletion). Never throws. */
  reconcile(applicationId: string): void;
  status(app: ApplicationRecord): ServiceStatus;
  logs(app: ApplicationRecord, instance: string, range: { dateFrom?: string | undefined; dateTo?: string | undefined }): Promise<LogsDocument | undefined>;
  /** Where a gateway request of `tenant` goes, or why it cannot go anywhere. */
  target(app: ApplicationRecord, tenant: string): Endpoint | string;
  close(): Promise<void>;
}

/**
 * `--no-containers`: uploads are checked and stored but nothing runs. The status is
 * "Unknown" (not "Down": nothing was even tried), so a client waiting for "Up" can tell the
 * difference and stop waiting.
 */
export function createInertRuntime(): ServiceRuntime {
  return {
    reconcile: () => {},
    status: () => ({
      status: "Unknown",
      lastUpdated: new Date().toISOString(),
      desired: 0,
      instances: [],
      reason: "The sandbox runs without containers (--no-containers).",
    }),
    logs: async () => undefined,
    target: () => "The sandbox runs without containers (--no-containers), so no microservice is running.",
    close: async () => {},
  };
}
