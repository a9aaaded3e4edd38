import { setTimeout as sleep } from "node:timers/promises";
import { CancelledError, CliError } from "../errors.js";
import { ROLES, type Application } from "./applications.js";
import type { PlatformClient } from "./client.js";

/** platform.md §3.3 #17: `c8y_Status` and each entry of `c8y_Subscriptions`. */
export interface StatusFragment {
  status?: string;
  lastUpdated?: string;
  /** Why the service is not Up, where the platform says. */
  reason?: string;
  instances?: Record<string, { restarts?: number; running?: boolean; ready?: boolean; lastUpdated?: string }>;
  details?: { desired?: number; active?: number; restarts?: number };
}

export interface StatusObject {
  id: string;
  c8y_Status?: StatusFragment;
  c8y_Subscriptions?: Record<string, StatusFragment>;
  c8y_SupportedLogs?: string[];
}

/** The status managed object of a microservice; undefined until the platform made one (after the first upload). */
export async function readStatus(client: PlatformClient, app: Application): Promise<StatusObject | undefined> {
  const body = await client.json<{ managedObjects?: StatusObject[] }>({
    method: "GET",
    path: "/inventory/managedObjects",
    query: { type: `c8y_Application_${app.id}`, pageSize: 1 },
    action: `read the status of ${app.name}`,
    role: ROLES.inventoryRead,
  });
  return body.managedObjects?.[0];
}

export interface InstanceLogs {
  logs: string;
  truncated: boolean;
}

/** platform.md §3.3 #18; undefined when the instance is gone (it may have been replaced). */
export async function readInstanceLogs(client: PlatformClient, app: Application, instance: string): Promise<InstanceLogs | undefined> {
  const response = await client.send({
    method: "GET",
    path: `/application/applications/${encodeURIComponent(app.id)}/logs/${encodeURIComponent(instance)}`,
    allow: [404],
    action: `read the logs of ${instance}`,
    role: ROLES.appRead,
  });
  if (response.status === 404) return undefined;
  const body = response.body as Partial<InstanceLogs> | undefined;
  return { logs: typeof body?.logs === "string" ? body.logs : "", truncated: Boolean(body?.truncated) };
}

/** The service did not report Up: the platform's reason and the last log lines, for the user. */
export class ServiceNotUpError extends CliError {
  override readonly code = "SERVICE_NOT_UP";
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Each time the reported state changes, e.g. "Down (0 of 1 instances ready)". */
  onChange?: (state: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  signal?: AbortSignal | undefined;
}

/** Restarts after which waiting longer will not help: the container keeps crashing. */
const CRASH_LOOP_RESTARTS = 3;
/** How long "nothing to run" may last before we believe it (the platform needs a moment after subscribing). */
const NOTHING_DESIRED_GRACE_MS = 10_000;
const LOG_LINES = 20;

/**
 * Polls the status object (platform.md §3.3 #17) until `c8y_Status.status` is Up. Gives up
 * early when the service keeps restarting or the platform says nothing is to run, and at the
 * timeout; the error carries the platform's reason and the last log lines of each instance.
 */
export async function waitUntilUp(client: PlatformClient, app: Application, options: WaitOptions): Promise<StatusFragment> {
  const now = options.now ?? (() => Date.now());
  const pause =
    options.sleep ??
    ((ms: number) =>
      sleep(ms, undefined, { signal: options.signal }).catch(() => {
        throw new CancelledError();
      }));
  const started = now();
  let last = "";
  let nothingSince: number | undefined;
  for (;;) {
    const object = await readStatus(client, app);
    const fragment = object?.c8y_Status;
    const state = describeStatus(fragment);
    if (state !== last) options.onChange?.(state);
    last = state;
    if (fragment?.status === "Up") return fragment;

    const restarts = Object.values(fragment?.instances ?? {}).reduce((sum, i) => sum + (i.restarts ?? 0), 0);
    if (restarts >= CRASH_LOOP_RESTARTS) throw await notUp(client, app, object, `${app.name} keeps restarting (${restarts} restarts): ${state}.`);
    nothingSince = fragment?.details?.desired === 0 ? (nothingSince ?? now()) : undefined;
    if (nothingSince !== undefined && now() - nothingSince >= NOTHING_DESIRED_GRACE_MS) {
      throw await notUp(client, app, object, `${app.name} will not come up: the platform runs no instance of it (${state}).`);
    }
    if (now() - started >= options.timeoutMs) {
      throw await notUp(client, app, object, `${app.name} did not report Up within ${Math.round(options.timeoutMs / 1000)}s: ${state}.`);
    }
    await pause(options.pollMs ?? 2000);
  }
}

export function describeStatus(fragment: StatusFragment | undefined): string {
  if (!fragment) return "no status yet";
  const instances = Object.values(fragment.instances ?? {});
  const desired = fragment.details?.desired;
  const ready = fragment.details?.active ?? instances.filter((i) => i.ready).length;
  const counts = desired !== undefined && desired > 0 ? ` (${ready} of ${desired} instances ready)` : "";
  // Messages end the state with their own full stop.
  const reason = fragment.reason ? ` - ${fragment.reason.replace(/\.+$/, "")}` : "";
  return `${fragment.status ?? "Unknown"}${counts}${reason}`;
}

async function notUp(client: PlatformClient, app: Application, object: StatusObject | undefined, message: string): Promise<ServiceNotUpError> {
  const instances = [...new Set([...Object.keys(object?.c8y_Status?.instances ?? {}), ...(object?.c8y_SupportedLogs ?? [])])];
  const sections: string[] = [];
  for (const instance of instances) {
    const logs = await readInstanceLogs(client, app, instance).catch(() => undefined);
    const lines = logs?.logs.split("\n").filter((l) => l.trim() !== "").slice(-LOG_LINES) ?? [];
    if (lines.length > 0) sections.push(`Last log lines of ${instance}:`, ...lines.map((l) => `  ${l}`));
  }
  const advice = "Check that the service listens on port 80 (SERVER_PORT) and that the probe paths in cumulocity.json answer 200; `c8y-ms status " + app.name + "` shows the state.";
  return new ServiceNotUpError(message, { hint: [...sections, advice].join("\n") });
}
