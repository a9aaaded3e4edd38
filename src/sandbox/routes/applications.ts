import {
  bootstrapUserOf,
  createApplication,
  deleteApplication,
  isSubscribed,
  isVisible,
  ownedApplication,
  updateApplication,
  visibleApplication,
} from "../applications.js";
import { ApiError, collection, notFound, paginate, readJsonObject, sendJson } from "../http.js";
import { applicationJson, applicationSelf } from "../representations.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES, type ApplicationRecord } from "../state.js";

const READ = [ROLES.appRead, ROLES.appAdmin];
const ADMIN = [ROLES.appAdmin];

/** The application API (platform.md §3.3 #2–#6, #11, #12, #18). Uploads live in binaries.ts. */
export const applicationRoutes: Route[] = [
  {
    method: "GET",
    path: "/application/applicationsByName/:name",
    access: "user",
    roles: READ,
    // Always 200: an unknown name is an empty list, which deploy scripts rely on (platform.md §3.3 #2).
    handle: (call) => sendApplications(call, (app) => app.name === call.params.name),
  },
  {
    method: "GET",
    path: "/application/applications",
    access: "user",
    roles: READ,
    handle: (call) => sendApplications(call, queryFilter(call.url.searchParams, call)),
  },
  {
    method: "POST",
    path: "/application/applications",
    access: "user",
    roles: ADMIN,
    handle: async ({ req, res, core, principal }) => {
      const body = await readJsonObject(req);
      const app = await createApplication(core.store, principal.tenant, body);
      const self = applicationSelf(core.baseUrl, app.id);
      sendJson(req, res, 201, "application", applicationJson(app, core.baseUrl), { location: self });
    },
  },
  {
    method: "GET",
    path: "/application/applications/:id",
    access: "user",
    roles: READ,
    handle: ({ req, res, core, principal, params }) => {
      const app = visibleApplication(core.store.state, principal.tenant, params.id ?? "");
      sendJson(req, res, 200, "application", applicationJson(app, core.baseUrl));
    },
  },
  {
    method: "PUT",
    path: "/application/applications/:id",
    access: "user",
    // platform.md §3.3 #6: the OpenAPI's USER_MANAGEMENT_ADMIN looks like an error; the legacy
    // reference's APPLICATION_MANAGEMENT_ADMIN is what the sandbox requires.
    roles: ADMIN,
    handle: async ({ req, res, core, principal, params }) => {
      const body = await readJsonObject(req);
      const updated = await core.store.exclusive(params.id ?? "", () => updateApplication(core.store, ownedApplication(core.store.state, principal.tenant, params.id ?? ""), body));
      core.runtime.reconcile(updated.id);
      sendJson(req, res, 200, "application", applicationJson(updated, core.baseUrl));
    },
  },
  {
    method: "DELETE",
    path: "/application/applications/:id",
    access: "user",
    roles: ADMIN,
    handle: async ({ req, res, core, principal, params, url }) => {
      const app = await core.store.exclusive(params.id ?? "", async () => {
        const owned = ownedApplication(core.store.state, principal.tenant, params.id ?? "");
        await deleteApplication(core.store, owned, url.searchParams.get("force") === "true");
        return owned;
      });
      core.runtime.reconcile(app.id);
      sendJson(req, res, 204, "application", undefined);
    },
  },
  {
    method: "GET",
    path: "/application/applications/:id/bootstrapUser",
    access: "user",
    roles: ADMIN,
    handle: ({ req, res, core, principal, params }) => {
      const state = core.store.state;
      const app = ownedApplication(state, principal.tenant, params.id ?? "");
      const user = bootstrapUserOf(state, app);
      if (!user) throw new ApiError(400, "applications/badRequest", `Application ${app.name} is not a microservice; only microservices have a bootstrap user.`);
      sendJson(req, res, 200, "user", { tenant: user.tenant, name: user.name, password: user.password });
    },
  },
  {
    method: "GET",
    path: "/application/applications/:id/logs/:instance",
    access: "user",
    roles: READ,
    handle: async ({ req, res, core, principal, params, url }) => {
      const app = ownedApplication(core.store.state, principal.tenant, params.id ?? "");
      const dateFrom = url.searchParams.get("dateFrom") ?? undefined;
      const dateTo = url.searchParams.get("dateTo") ?? undefined;
      const logs = await core.runtime.logs(app, params.instance ?? "", { dateFrom, dateTo });
      if (!logs) throw notFound("applications/Not Found", `Instance ${params.instance} of ${app.name} not found.`);
      sendJson(req, res, 200, "applicationLogs", logs);
    },
  },
];

function sendApplications({ req, res, url, core, principal }: AuthenticatedCall, keep: (app: ApplicationRecord) => boolean): void {
  const state = core.store.state;
  const apps = state.applications.filter((app) => isVisible(state, principal.tenant, app) && keep(app));
  const page = paginate(
    apps.map((app) => applicationJson(app, core.baseUrl)),
    url,
  );
  sendJson(req, res, 200, "applicationCollection", collection("applications", page));
}

/** The query parameters of `GET /application/applications` (platform.md §3.3 #3). */
function queryFilter(query: URLSearchParams, { core }: AuthenticatedCall): (app: ApplicationRecord) => boolean {
  const state = core.store.state;
  const name = query.get("name");
  const types = query.get("type")?.split(",").map((t) => t.trim()).filter(Boolean);
  const owner = query.get("owner");
  const subscriber = query.get("subscriber");
  const tenant = query.get("tenant");
  const providedFor = query.get("providedFor");
  const hasVersions = query.get("hasVersions");
  return (app) =>
    (name === null || app.name === name) &&
    (!types?.length || types.includes(app.type)) &&
    (owner === null || app.owner === owner) &&
    (subscriber === null || isSubscribed(state, subscriber, app.id)) &&
    (tenant === null || app.owner === tenant || isSubscribed(state, tenant, app.id)) &&
    (providedFor === null || isVisible(state, providedFor, app)) &&
    (hasVersions === null || (app.activeVersionId !== undefined) === (hasVersions === "true"));
}
