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
