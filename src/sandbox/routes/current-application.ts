import { findApplication, serviceUsersOf, updateApplication } from "../applications.js";
import { forbidden, readJsonObject, sendJson } from "../http.js";
import { applicationJson } from "../representations.js";
import type { AuthenticatedCall, Route } from "../router.js";
import type { ApplicationRecord } from "../state.js";
import { optionsOf, visibleValue } from "../data/tenant-options.js";
import { ownSettingsCategory } from "./tenant-options.js";

/**
 * What a running microservice calls with its own credentials (platform.md §3.3 #13–#16,
 * §4.4). The application is the one the bootstrap or service user belongs to; people have
 * no current application here (the platform would need X-Cumulocity-Application-Key), so
 * they get 403.
 */
export const currentApplicationRoutes: Route[] = [
  {
    method: "GET",
    path: "/application/currentApplication",
    access: "bootstrap",
    handle: (call) => sendJson(call.req, call.res, 200, "application", applicationJson(currentApplication(call, ["bootstrap", "service"]), call.core.baseUrl)),
  },
  {
    method: "PUT",
    path: "/application/currentApplication",
    access: "bootstrap",
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      const id = currentApplication(call, ["bootstrap"]).id;
      const updated = await call.core.store.exclusive(id, () => {
        const app = currentApplication(call, ["bootstrap"]);
        // A service may not widen its own rights (docs/platform-evidence.md §6): the owner
        // changes required roles, and each subscribed tenant grants them by subscribing again.
        if (body.requiredRoles !== undefined && !sameRoles(body.requiredRoles, app.requiredRoles)) throw forbidden();
        return updateApplication(call.core.store, app, body);
      });
      call.core.runtime.reconcile(updated.id);
      sendJson(call.req, call.res, 200, "application", applicationJson(updated, call.core.baseUrl));
    },
  },
  {
    method: "GET",
    path: "/application/currentApplication/subscriptions",
    access: "bootstrap",
    handle: (call) => {
      const app = currentApplication(call, ["bootstrap"]);
      const users = serviceUsersOf(call.core.store.state, app).map((u) => ({ tenant: u.tenant, name: u.name, password: u.password }));
      sendJson(call.req, call.res, 200, "applicationUserCollection", {
        self: `${call.core.baseUrl}/application/currentApplication/subscriptions`,
        users,
      });
    },
  },
  {
    method: "GET",
    path: "/application/currentApplication/settings",
    access: "bootstrap",
    // platform.md §3.3 #15: the docs show a flat {key: value} map, the OpenAPI an array
    // (CONFLICT); the sandbox follows the documentation's example. Values are the tenant
    // options of the settings category, the manifest's defaults where none is set (c8y-docs
    // "Microservice settings"); secrets are decrypted for the service itself.
    handle: async (call) => {
      const app = currentApplication(call, ["bootstrap", "service"]);
      const settings = Array.isArray(app.manifest?.settings) ? (app.manifest.settings as { key?: unknown; defaultValue?: unknown }[]) : [];
      const defaults = Object.fromEntries(settings.filter((s) => typeof s.key === "string").map((s) => [s.key as string, s.defaultValue ?? null]));
      const category = ownSettingsCategory(call.core.store.state, call.principal) ?? "";
      const options = await optionsOf(await call.core.data.database(), call.principal.tenant, category);
      const secret = call.core.store.state.tokenSecret;
      const map = { ...defaults, ...Object.fromEntries(options.map((row) => [row.key, visibleValue(row, secret, category)])) };
      sendJson(call.req, call.res, 200, "option", map);
    },
  },
];

function sameRoles(given: unknown, current: readonly string[]): boolean {
  return Array.isArray(given) && given.length === current.length && given.every((role) => current.includes(role as string));
}

function currentApplication({ core, principal }: AuthenticatedCall, kinds: readonly string[]): ApplicationRecord {
  const user = principal.user;
  if (!kinds.includes(user.kind) || user.application === undefined) throw forbidden();
  return findApplication(core.store.state, user.application);
}
