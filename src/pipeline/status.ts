import { requireOwnedApplication, type Application } from "../platform/applications.js";
import type { PlatformClient } from "../platform/client.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { withSession, type SessionContext } from "../platform/session.js";
import { readStatus, type StatusFragment } from "../platform/status.js";
import { subscribedApplicationIds } from "../platform/tenants.js";

export interface InstanceReport {
  name: string;
  running: boolean | null;
  ready: boolean | null;
  restarts: number;
}

/** The `--json` document of `c8y-ms status`. */
export interface StatusResult {
  application: { id: string; name: string; key: string; contextPath: string | null };
  /** The manifest version of the active binary; null before the first upload. */
  version: string | null;
  activeVersionId: string | null;
  /** Up, Unhealthy, Down or Unknown (platform.md §3.3 #17); null when the platform has no status yet. */
  status: string | null;
  reason: string | null;
  subscriptions: { tenant: string; status: string | null }[];
  instances: InstanceReport[];
}

/** `c8y-ms status <name>`: the application this tenant owns, its active version, subscriptions and instances. */
export async function readServiceStatus(name: string, options: ConnectionOptions, ctx: SessionContext): Promise<StatusResult> {
  return withSession(options, ctx, async ({ client, tenant }) => collectStatus(client, await requireOwnedApplication(client, name, tenant), tenant));
}

async function collectStatus(client: PlatformClient, app: Application, tenant: string): Promise<StatusResult> {
  const object = await readStatus(client, app);
  const overall = object?.c8y_Status;
  // Before the first upload there is no status object; the tenant's own subscription list still answers.
  const subscriptions = object
    ? Object.entries(object.c8y_Subscriptions ?? {}).map(([id, fragment]) => ({ tenant: id, status: fragment.status ?? null }))
    : (await subscribedApplicationIds(client, tenant)).includes(app.id)
      ? [{ tenant, status: null }]
      : [];
  const version = app.manifest?.version;
  return {
    application: { id: app.id, name: app.name, key: app.key, contextPath: app.contextPath ?? null },
    version: typeof version === "string" ? version : null,
    activeVersionId: app.activeVersionId ?? null,
    status: overall?.status ?? null,
    reason: overall?.reason ?? null,
    subscriptions,
    instances: instancesOf(overall),
  };
}

function instancesOf(fragment: StatusFragment | undefined): InstanceReport[] {
  return Object.entries(fragment?.instances ?? {}).map(([name, i]) => ({ name, running: i.running ?? null, ready: i.ready ?? null, restarts: i.restarts ?? 0 }));
}
