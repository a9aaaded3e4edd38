import type { IncomingMessage } from "node:http";
import { BAD_CREDENTIALS, findLogin, issueToken, TFA_REQUIRED, totpMatches } from "../auth.js";
import { ApiError, collection, notFound, paginate, readBody, sendJson, unauthenticated } from "../http.js";
import { currentTenantJson, currentUserJson, tenantJson } from "../representations.js";
import type { Call, Route } from "../router.js";
import { ROLES, type SandboxState, type UserRecord } from "../state.js";

/** Tenants, the current tenant and user, and the login endpoints (platform.md §3.2, §3.3 #1, #21). */
export const tenantRoutes: Route[] = [
  {
    method: "GET",
    path: "/tenant/loginOptions",
    access: "public",
    handle: ({ req, res, core, url }) => {
      const tenant = url.searchParams.get("tenantId") ?? ownerTenant(core.store.state);
      const option = (type: string, extra: Record<string, unknown>) => ({
        id: type.toLowerCase(),
        self: `${core.baseUrl}/tenant/loginOptions/${type.toLowerCase()}`,
        type,
        userManagementSource: "INTERNAL",
        visibleOnLoginPage: true,
        tfaStrategy: "TOTP",
        ...extra,
      });
      sendJson(req, res, 200, "loginOptionCollection", {
        self: `${core.baseUrl}/tenant/loginOptions`,
        loginOptions: [
          option("BASIC", {}),
          option("OAUTH2_INTERNAL", { grantType: "PASSWORD", initRequest: `${core.baseUrl}/tenant/oauth?tenant_id=${tenant}` }),
        ],
      });
    },
  },
  {
    method: "POST",
    path: "/tenant/oauth/token",
    access: "public",
    handle: async (call) => {
      const user = await passwordGrant(call);
      const { token } = issueToken(user, call.core.store.state.tokenSecret);
      // The token endpoint answers with a body whatever the Accept header says.
      const text = JSON.stringify({ access_token: token });
      call.res.writeHead(200, { "content-type": "application/json;charset=UTF-8", "content-length": String(Buffer.byteLength(text)) }).end(text);
    },
  },
  {
    method: "POST",
    path: "/tenant/oauth",
    access: "public",
    handle: async (call) => {
      const user = await passwordGrant(call);
      const { token, xsrf } = issueToken(user, call.core.store.state.tokenSecret);
      call.res
        .writeHead(200, {
          "set-cookie": [`authorization=${token}; Path=/; HttpOnly; SameSite=Lax`, `XSRF-TOKEN=${xsrf}; Path=/; SameSite=Lax`],
        })
        .end();
    },
  },
  {
    method: "GET",
    path: "/tenant/currentTenant",
    access: "bootstrap",
    handle: ({ req, res, core, principal }) => {
      const tenant = findTenant(core.store.state, principal.tenant);
      sendJson(req, res, 200, "currentTenant", currentTenantJson(tenant, core.store.state, core.baseUrl));
    },
  },
  {
    method: "GET",
    path: "/user/currentUser",
    access: "bootstrap",
    handle: ({ req, res, core, principal }) => sendJson(req, res, 200, "currentUser", currentUserJson(principal.user, core.baseUrl)),
  },
  {
    method: "GET",
    path: "/tenant/tenants",
    access: "user",
    roles: [ROLES.tenantRead, ROLES.tenantAdmin],
    handle: ({ req, res, url, core, principal }) => {
      const state = core.store.state;
      // The platform lists the subtenants of the caller's tenant.
      const children = state.tenants.filter((t) => t.parent === principal.tenant).map((t) => tenantJson(t, state, core.baseUrl));
      sendJson(req, res, 200, "tenantCollection", collection("tenants", paginate(children, url)));
    },
  },
  {
    method: "GET",
    path: "/tenant/tenants/:tenant",
    access: "user",
    roles: [ROLES.tenantRead, ROLES.tenantAdmin],
    handle: ({ req, res, params, core, principal }) => {
      const state = core.store.state;
      const tenant = manageableTenant(state, principal.tenant, params.tenant ?? "");
      sendJson(req, res, 200, "tenant", tenantJson(tenant, state, core.baseUrl));
    },
  },
];

export function ownerTenant(state: SandboxState): string {
  return state.tenants.find((t) => t.parent === null)?.id ?? "";
}

export function findTenant(state: SandboxState, id: string) {
  const tenant = state.tenants.find((t) => t.id === id);
  if (!tenant) throw notFound("tenants/Not Found", `Tenant with id ${id} not found.`);
  return tenant;
}

/** A tenant the caller may see: its own or one of its subtenants; others look absent. */
export function manageableTenant(state: SandboxState, callerTenant: string, id: string) {
  const tenant = findTenant(state, id);
  if (tenant.id !== callerTenant && tenant.parent !== callerTenant) throw notFound("tenants/Not Found", `Tenant with id ${id} not found.`);
  return tenant;
}

/**
 * The OAI-Secure password grant (platform.md §3.2): a form with grant_type, username,
 * password and, for two-factor users, tfa_code; `tenant_id` in the query when known.
 */
async function passwordGrant({ req, url, core }: Call): Promise<UserRecord> {
  const form = await readForm(req);
  const grant = form.get("grant_type");
  if (grant !== null && grant.toUpperCase() !== "PASSWORD") {
    throw new ApiError(400, "security/badRequest", `Unsupported grant_type '${grant}'; use PASSWORD.`);
  }
  const username = form.get("username") ?? "";
  const password = form.get("password") ?? "";
  const tenant = url.searchParams.get("tenant_id") ?? undefined;
  core.logins.check(username);
  const user = findLogin(core.store.state, username, password, tenant);
  if (!user || user.kind !== "person") {
    core.logins.failed(username);
    throw unauthenticated(BAD_CREDENTIALS);
  }
  if (user.totpSecret) {
    const code = form.get("tfa_code");
    if (!code) throw unauthenticated(TFA_REQUIRED);
    if (!totpMatches(user.totpSecret, code)) {
      // Guessing the code counts like guessing the password.
      core.logins.failed(username);
      throw unauthenticated("Invalid TFA TOTP code");
    }
  }
  core.logins.succeeded(username);
  return user;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new ApiError(415, "general/unsupportedMediaType", "Send the login as application/x-www-form-urlencoded.");
  }
  return new URLSearchParams(await readBody(req));
}
