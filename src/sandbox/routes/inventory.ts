import { subscribersOf } from "../applications.js";
import { collection, notFound, paginate, sendJson } from "../http.js";
import { healthOf, type InstanceStatus, type ServiceStatus } from "../runtime.js";
import type { Route, SandboxCore } from "../router.js";
import { ROLES, type ApplicationRecord } from "../state.js";

const READ = [ROLES.inventoryRead, ROLES.inventoryAdmin];

/**
 * The status managed objects of microservices (platform.md §3.3 #17): type
 * `c8y_Application_<id>`, visible to the owner tenant, present once a binary was uploaded.
 * Other inventory content does not exist in the sandbox, so other queries find nothing.
 */
export const inventoryRoutes: Route[] = [
  {
    method: "GET",
    path: "/inventory/managedObjects",
    access: "user",
    roles: READ,
    handle: ({ req, res, url, core, principal }) => {
      const type = url.searchParams.get("type");
      const objects = statusApplications(core, principal.tenant)
        .map((app) => statusObject(core, app))
        .filter((mo) => type === null || mo.type === type);
      sendJson(req, res, 200, "managedObjectCollection", collection("managedObjects", paginate(objects, url)));
    },
  },
  {
    method: "GET",
    path: "/inventory/managedObjects/:id",
    access: "user",
    roles: READ,
    handle: ({ req, res, core, principal, params }) => {
      const app = statusApplications(core, principal.tenant).find((a) => a.statusObjectId === params.id);
      if (!app) throw notFound("inventory/Not Found", `Finding managed object with id ${params.id} failed.`);
      sendJson(req, res, 200, "managedObject", statusObject(core, app));
    },
  },
];

function statusApplications(core: SandboxCore, tenant: string): ApplicationRecord[] {
  return core.store.state.applications.filter((a) => a.owner === tenant && a.statusObjectId !== undefined && a.activeVersionId !== undefined);
}

function statusObject(core: SandboxCore, app: ApplicationRecord): Record<string, unknown> & { type: string } {
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
