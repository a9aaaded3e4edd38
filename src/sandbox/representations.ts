import type { ApplicationRecord, SandboxState, TenantRecord, UserRecord } from "./state.js";

/**
 * JSON shapes the platform sends (platform.md §3.3 and the Application object below it).
 * Only fields a deploy tool or a microservice reads are filled; the rest of the platform's
 * representation is left out rather than invented.
 */

export function applicationSelf(baseUrl: string, id: string): string {
  return `${baseUrl}/application/applications/${id}`;
}

export function tenantSelf(baseUrl: string, id: string): string {
  return `${baseUrl}/tenant/tenants/${id}`;
}

export function applicationJson(app: ApplicationRecord, baseUrl: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: app.id,
    self: applicationSelf(baseUrl, app.id),
    name: app.name,
    key: app.key,
    type: app.type,
    availability: app.availability,
    owner: { self: tenantSelf(baseUrl, app.owner), tenant: { id: app.owner } },
    requiredRoles: app.requiredRoles,
    roles: app.roles,
    manifest: app.manifest ?? {},
  };
  if (app.contextPath !== undefined) body.contextPath = app.contextPath;
  if (app.description !== undefined) body.description = app.description;
  if (app.activeVersionId !== undefined) body.activeVersionId = app.activeVersionId;
  return body;
}

export function applicationReferenceJson(app: ApplicationRecord, tenant: string, baseUrl: string): Record<string, unknown> {
  return { self: `${tenantSelf(baseUrl, tenant)}/applications/${app.id}`, application: applicationJson(app, baseUrl) };
}

export function subscribedApplications(state: SandboxState, tenant: string): ApplicationRecord[] {
  const ids = new Set(state.subscriptions.filter((s) => s.tenant === tenant).map((s) => s.application));
  return state.applications.filter((app) => ids.has(app.id));
}

export function tenantJson(tenant: TenantRecord, state: SandboxState, baseUrl: string): Record<string, unknown> {
  const references = subscribedApplications(state, tenant.id).map((app) => applicationReferenceJson(app, tenant.id, baseUrl));
  const body: Record<string, unknown> = {
    id: tenant.id,
    self: tenantSelf(baseUrl, tenant.id),
    domain: new URL(baseUrl).host,
    status: "ACTIVE",
    company: `Sandbox tenant ${tenant.id}`,
    allowCreateTenants: tenant.parent === null,
    customProperties: {},
    applications: { self: `${tenantSelf(baseUrl, tenant.id)}/applications`, references },
    ownedApplications: {
      references: state.applications.filter((a) => a.owner === tenant.id).map((app) => applicationReferenceJson(app, tenant.id, baseUrl)),
    },
  };
  if (tenant.parent !== null) body.parent = tenant.parent;
  return body;
}

/** `GET /tenant/currentTenant` (platform.md §3.3 #1): the tenant id is in `name`. */
export function currentTenantJson(tenant: TenantRecord, state: SandboxState, baseUrl: string): Record<string, unknown> {
  const full = tenantJson(tenant, state, baseUrl);
  const body: Record<string, unknown> = {
    name: tenant.id,
    domainName: full.domain,
    allowCreateTenants: full.allowCreateTenants,
    customProperties: {},
    self: `${baseUrl}/tenant/currentTenant`,
    applications: full.applications,
  };
  if (tenant.parent !== null) body.parent = tenant.parent;
  return body;
}

export function userSelf(baseUrl: string, user: UserRecord): string {
  return `${baseUrl}/user/${user.tenant}/users/${encodeURIComponent(user.name)}`;
}

/** `GET /user/currentUser` (platform.md §3.3 #21): services check callers' roles here. */
export function currentUserJson(user: UserRecord, baseUrl: string): Record<string, unknown> {
  return {
    id: user.name,
    self: `${baseUrl}/user/currentUser`,
    userName: user.name,
    enabled: true,
    shouldResetPassword: false,
    twoFactorAuthenticationEnabled: user.totpSecret !== undefined,
    effectiveRoles: user.roles.map((role) => ({ id: role, name: role, self: `${baseUrl}/user/roles/${role}` })),
  };
}
