import { ROLES, type Application } from "./applications.js";
import { CliError } from "../errors.js";
import type { PlatformClient } from "./client.js";

export interface CurrentTenant {
  /** The tenant id (platform.md §3.3 #1: `name`). */
  name: string;
  domainName?: string;
}

/**
 * Logs in: `GET /tenant/currentTenant` proves the credentials and names the tenant, which
 * Basic auth then carries as `tenant/user` (platform.md §3.2, §3.4 step 1).
 */
export async function login(client: PlatformClient): Promise<CurrentTenant> {
  const tenant = await client.json<CurrentTenant>({ method: "GET", path: "/tenant/currentTenant", action: "read the current tenant" });
  if (typeof tenant?.name !== "string" || tenant.name === "") {
    throw new CliError(`${client.baseUrl} answered GET /tenant/currentTenant without a tenant id; it does not look like a Cumulocity platform.`, {
      hint: `Check the platform URL (${client.connection.urlFrom}).`,
    });
  }
  client.useTenant(tenant.name);
  return tenant;
}

export type SubscribeOutcome = "subscribed" | "already";
export type UnsubscribeOutcome = "unsubscribed" | "already";

/** A tenant subscribes itself with application management; a parent its subtenants with tenant management. */
function roleFor(client: PlatformClient, tenant: string): string {
  return tenant === client.tenant ? ROLES.appAdmin : ROLES.tenantAdmin;
}

/** platform.md §3.3 #8; 409 means it already was, which is what the caller wanted. */
export async function subscribe(client: PlatformClient, tenant: string, app: Application): Promise<SubscribeOutcome> {
  const response = await client.send({
    method: "POST",
    path: `/tenant/tenants/${encodeURIComponent(tenant)}/applications`,
    json: { application: { id: app.id, ...(app.self ? { self: app.self } : {}) } },
    contentType: "application/vnd.com.nsn.cumulocity.applicationReference+json",
    // Sending it twice is harmless: the second answer is 409.
    idempotent: true,
    allow: [409],
    action: `subscribe tenant ${tenant} to ${app.name}`,
    role: roleFor(client, tenant),
  });
  return response.status === 409 ? "already" : "subscribed";
}

/**
 * platform.md §3.3 #9. A 404 means either "not subscribed" (success) or "no such tenant"
 * (failure); listing the tenant's subscriptions tells them apart, and throws for the latter.
 */
export async function unsubscribe(client: PlatformClient, tenant: string, app: Application): Promise<UnsubscribeOutcome> {
  const response = await client.send({
    method: "DELETE",
    path: `/tenant/tenants/${encodeURIComponent(tenant)}/applications/${encodeURIComponent(app.id)}`,
    allow: [404],
    action: `unsubscribe tenant ${tenant} from ${app.name}`,
    role: roleFor(client, tenant),
  });
  if (response.status !== 404) return "unsubscribed";
  const subscribed = await subscribedApplicationIds(client, tenant);
  if (subscribed.includes(app.id)) throw new CliError(`The platform answered 404 to unsubscribing tenant ${tenant} from ${app.name}, yet still lists the subscription.`);
  return "already";
}

/** platform.md §3.3 #10. */
export async function subscribedApplicationIds(client: PlatformClient, tenant: string): Promise<string[]> {
  const body = await client.json<{ references?: { application?: { id?: string | number } }[] }>({
    method: "GET",
    path: `/tenant/tenants/${encodeURIComponent(tenant)}/applications`,
    query: { pageSize: 2000 },
    action: `list the subscriptions of tenant ${tenant}`,
    role: ROLES.tenantAdmin,
  });
  return (body.references ?? []).map((ref) => String(ref.application?.id ?? ""));
}

export interface CurrentUser {
  userName: string;
  /** Role ids, e.g. ROLE_APPLICATION_MANAGEMENT_ADMIN. */
  roles: string[];
}

/** platform.md §3.3 #21: who we are and which roles we effectively have. */
export async function readCurrentUser(client: PlatformClient): Promise<CurrentUser> {
  const body = await client.json<{ userName?: string; id?: string; effectiveRoles?: { id?: string; name?: string }[] }>({
    method: "GET",
    path: "/user/currentUser",
    action: "read the current user",
  });
  const roles = (body.effectiveRoles ?? []).map((r) => r.id ?? r.name ?? "").filter(Boolean);
  return { userName: body.userName ?? body.id ?? "", roles };
}
