import { ancestorsOf, invalidDataError, isVisible, subscribe, unsubscribe, visibleApplication } from "../applications.js";
import { collection, forbidden, paginate, readJsonObject, sendJson } from "../http.js";
import { applicationReferenceJson, subscribedApplications } from "../representations.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES, type ApplicationRecord } from "../state.js";
import { manageableTenant } from "./tenant.js";

/** Subscriptions of tenants to applications (platform.md §3.3 #8–#10, §4.4). */
export const subscriptionRoutes: Route[] = [
  {
    method: "GET",
    path: "/tenant/tenants/:tenant/applications",
    access: "user",
    roles: [ROLES.tenantRead, ROLES.tenantAdmin, ROLES.appRead, ROLES.appAdmin],
    handle: ({ req, res, url, core, principal, params }) => {
      const state = core.store.state;
      const tenant = manageableTenant(state, principal.tenant, params.tenant ?? "");
      const references = subscribedApplications(state, tenant.id).map((app) => applicationReferenceJson(app, tenant.id, core.baseUrl));
      sendJson(req, res, 200, "applicationReferenceCollection", collection("references", paginate(references, url)));
    },
  },
  {
    method: "POST",
    path: "/tenant/tenants/:tenant/applications",
    access: "user",
    roles: [ROLES.appAdmin, ROLES.tenantAdmin],
    handle: async (call) => {
      const { req, res, core } = call;
      const body = await readJsonObject(req);
      const tenant = subscriptionTenant(call);
      const app = referencedApplication(call, body.application);
      await subscribe(core.store, tenant, app);
      core.runtime.reconcile(app.id);
      const reference = applicationReferenceJson(app, tenant, core.baseUrl);
      sendJson(req, res, 201, "applicationReference", reference, { location: String(reference.self) });
    },
  },
  {
    method: "DELETE",
    path: "/tenant/tenants/:tenant/applications/:id",
    access: "user",
    roles: [ROLES.appAdmin, ROLES.tenantAdmin],
    handle: async (call) => {
      const { req, res, core, params } = call;
      const tenant = subscriptionTenant(call);
      const app = await unsubscribe(core.store, tenant, params.id ?? "");
      core.runtime.reconcile(app.id);
      sendJson(req, res, 204, "applicationReference", undefined);
    },
  },
];

/**
 * A tenant subscribes itself with application-management rights; a parent subscribes its
 * subtenants with tenant-management rights (platform.md §3.3 #8).
 */
function subscriptionTenant({ core, principal, params }: AuthenticatedCall): string {
  const state = core.store.state;
  const tenant = manageableTenant(state, principal.tenant, params.tenant ?? "");
  const roles = principal.user.roles;
  const allowed = tenant.id === principal.tenant ? roles.includes(ROLES.appAdmin) : roles.includes(ROLES.tenantAdmin);
  if (!allowed) throw forbidden();
  return tenant.id;
}

/**
 * `{"application": {"id": …}}` or `{"application": {"self": …}}` — tools send either or both
 * (platform.md §3.3 #8). The application must be the caller's to give: owned by the
 * subscribing tenant or one of its ancestors, and visible to the caller.
 */
function referencedApplication({ core, principal, params }: AuthenticatedCall, reference: unknown): ApplicationRecord {
  const state = core.store.state;
  const ref = (typeof reference === "object" && reference !== null ? reference : {}) as { id?: unknown; self?: unknown };
  const id =
    typeof ref.id === "string" || typeof ref.id === "number"
      ? String(ref.id)
      : typeof ref.self === "string"
        ? (ref.self.split("/").filter(Boolean).pop() ?? "")
        : undefined;
  if (id === undefined || id === "") {
    throw invalidDataError("The body must reference the application: {\"application\": {\"id\": \"<id>\"}}.");
  }
  const app = visibleApplication(state, principal.tenant, id);
  const tenant = params.tenant ?? "";
  const offered = app.owner === tenant || ancestorsOf(state, tenant).includes(app.owner);
  if (!offered || (app.owner !== principal.tenant && !isVisible(state, tenant, app))) throw forbidden();
  return app;
}
