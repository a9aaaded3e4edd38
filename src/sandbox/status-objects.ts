import { subscribersOf } from "./applications.js";
import { healthOf, type InstanceStatus, type ServiceStatus } from "./runtime.js";
import type { SandboxCore } from "./router.js";
import type { ApplicationRecord } from "./state.js";

/**
 * The status managed objects of microservices (platform.md §3.3 #17): type
 * `c8y_Application_<id>`, visible to the owner tenant, present once a binary was uploaded.
 * They are made from the runtime on each request, not stored with the tenant's managed
 * objects, so device queries never find them (as on the platform).
 */
export function statusApplications(core: SandboxCore, tenant: string): ApplicationRecord[] {
  return core.store.state.applications.filter((a) => a.owner === tenant && a.statusObjectId !== undefined && a.activeVersionId !== undefined);
}

export function statusObject(core: SandboxCore, app: ApplicationRecord): Record<string, unknown> & { type: string } {
  const status = core.runtime.status(app);
  const isolation = app.manifest?.isolation === "PER_TENANT" ? "PER_TENANT" : "MULTI_TENANT";
  const subscriptions: Record<string, unknown> = {};
  for (const tenant of subscribersOf(core.store.state, app)) {
    const own = isolation === "PER_TENANT" ? status.instances.filter((i) => i.tenant === tenant) : status.instances;
    const desired = isolation === "PER_TENANT" ? Math.ceil(status.desired / Math.max(1, subscribersOf(core.store.state, app).length)) : status.desired;
    subscriptions[tenant] = statusFragment({ ...status, instances: own, desired, status: status.desired === 0 ? status.status : healthOf(own, desired) });
  }
  return {
    id: app.statusObjectId ?? "",
    self: `${core.baseUrl}/inventory/managedObjects/${app.statusObjectId}`,
    type: `c8y_Application_${app.id}`,
    name: app.name,
    applicationId: app.id,
    applicationOwner: app.owner,
    creationTime: app.created,
    lastUpdated: status.lastUpdated,
    c8y_Status: statusFragment(status),
    c8y_Subscriptions: subscriptions,
    c8y_SupportedLogs: status.instances.map((i) => i.name),
  };
}

function statusFragment(status: ServiceStatus): Record<string, unknown> {
  const instances = Object.fromEntries(status.instances.map((i: InstanceStatus) => [i.name, instanceFragment(i)]));
  const fragment: Record<string, unknown> = {
    status: status.status,
    lastUpdated: status.lastUpdated,
    instances,
    details: {
      desired: status.desired,
      active: status.instances.filter((i) => i.running && i.ready).length,
      restarts: status.instances.reduce((sum, i) => sum + i.restarts, 0),
    },
  };
  if (status.reason) fragment.reason = status.reason;
  return fragment;
}

function instanceFragment(instance: InstanceStatus): Record<string, unknown> {
  return { restarts: instance.restarts, scheduled: true, running: instance.running, ready: instance.ready, lastUpdated: instance.lastUpdated };
}
