import { CliError } from "../errors.js";
import type { PlatformClient } from "./client.js";
import { PlatformError } from "./errors.js";

/** Roles named in 403 hints (platform.md §3.3, "Required role"). */
export const ROLES = {
  appAdmin: "ROLE_APPLICATION_MANAGEMENT_ADMIN",
  appRead: "ROLE_APPLICATION_MANAGEMENT_READ",
  inventoryRead: "ROLE_INVENTORY_READ",
  tenantAdmin: "ROLE_TENANT_MANAGEMENT_ADMIN",
} as const;

/** The fields of the platform's Application a deploy tool reads (platform.md §3.3). */
export interface Application {
  id: string;
  self?: string;
  name: string;
  key: string;
  type: string;
  availability?: string;
  contextPath?: string;
  owner?: { tenant?: { id?: string } };
  requiredRoles?: string[];
  roles?: string[];
  activeVersionId?: string;
  manifest?: Record<string, unknown>;
}

export interface NewApplication {
  name: string;
  key: string;
  contextPath?: string | undefined;
  requiredRoles: string[];
  roles: string[];
}

const APPLICATION_TYPE = "application/vnd.com.nsn.cumulocity.application+json";

export function ownerOf(app: Application): string | undefined {
  return app.owner?.tenant?.id;
}

/**
 * The applications named `name` that `tenant` can see: its own and those other tenants offer
 * it. Filtered by exact name here too, whatever the query parameters did.
 */
export async function findApplicationsByName(client: PlatformClient, name: string): Promise<Application[]> {
  const body = await client.json<{ applications?: Application[] }>({
    method: "GET",
    path: "/application/applications",
    query: { name, pageSize: 2000 },
    action: `look up the application ${name}`,
    role: ROLES.appRead,
  });
  return (body.applications ?? []).filter((app) => app.name === name).map(normaliseApplication);
}

/**
 * The application `name` owned by `tenant`, never one of the same name that another tenant
 * owns and merely subscribed us to (platform.md §3.4 step 2, landscape.md complaint 10).
 */
export async function findOwnedApplication(client: PlatformClient, name: string, tenant: string): Promise<Application | undefined> {
  return (await findApplicationsByName(client, name)).find((app) => ownerOf(app) === tenant);
}

export async function getApplication(client: PlatformClient, id: string): Promise<Application> {
  const app = await client.json<Application>({ method: "GET", path: `/application/applications/${encodeURIComponent(id)}`, action: `read application ${id}`, role: ROLES.appRead });
  return normaliseApplication(app);
}

/**
 * Creates a microservice application. A create that failed on the way back (connection
 * reset) may have landed: the client looks the name up before trying again.
 */
export async function createApplication(client: PlatformClient, input: NewApplication, tenant: string): Promise<Application> {
  const json: Record<string, unknown> = { name: input.name, key: input.key, type: "MICROSERVICE", requiredRoles: input.requiredRoles, roles: input.roles };
  if (input.contextPath !== undefined) json.contextPath = input.contextPath;
  try {
    const app = await client.json<Application>({
      method: "POST",
      path: "/application/applications",
      json,
      contentType: APPLICATION_TYPE,
      landed: () => findOwnedApplication(client, input.name, tenant),
      action: `create the application ${input.name}`,
      role: ROLES.appAdmin,
    });
    return normaliseApplication(app);
  } catch (error) {
    if (error instanceof PlatformError && error.status === 409) {
      // Another deploy of the same service may have created it a moment ago: use that one.
      const created = await findOwnedApplication(client, input.name, tenant);
      if (created) return created;
      throw new PlatformError(409, { message: error.platformMessage }, error.message, {
        hint: `Application names are unique per tenant, and keys and context paths across the platform: another tenant may own '${input.name}' (key ${input.key}). Rename the service in cumulocity.json, or deploy as a user of the owner tenant.`,
      });
    }
    throw error;
  }
}

/** PUT of the fields that changed, e.g. requiredRoles and roles from a new manifest. */
export async function updateApplication(client: PlatformClient, app: Application, patch: Partial<NewApplication>): Promise<Application> {
  const updated = await client.json<Application>({
    method: "PUT",
    path: `/application/applications/${encodeURIComponent(app.id)}`,
    json: patch,
    contentType: APPLICATION_TYPE,
    action: `update the application ${app.name}`,
    role: ROLES.appAdmin,
  });
  return normaliseApplication(updated);
}

/** `force=true` unsubscribes every tenant first (platform.md §3.3 #11): the user confirmed deleting it all. */
export async function deleteApplication(client: PlatformClient, app: Application): Promise<"deleted" | "gone"> {
  const response = await client.send({
    method: "DELETE",
    path: `/application/applications/${encodeURIComponent(app.id)}`,
    query: { force: "true" },
    allow: [404],
    action: `delete the application ${app.name}`,
    role: ROLES.appAdmin,
  });
  return response.status === 404 ? "gone" : "deleted";
}

/** The platform sends ids as strings; some versions sent numbers. */
export function normaliseApplication(app: Application): Application {
  const result = { ...app, id: String(app.id) };
  if (app.activeVersionId !== undefined && app.activeVersionId !== null) result.activeVersionId = String(app.activeVersionId);
  return result;
}

/** The named application does not exist in the tenant, or another tenant owns it. */
export class ApplicationNotFoundError extends CliError {
  override readonly code = "APPLICATION_NOT_FOUND";
}

/**
 * The application `name` owned by `tenant`; when only another tenant's application of that
 * name is visible, says whose it is rather than acting on it.
 */
export async function requireOwnedApplication(client: PlatformClient, name: string, tenant: string): Promise<Application> {
  const apps = await findApplicationsByName(client, name);
  const owned = apps.find((app) => ownerOf(app) === tenant);
  if (owned) return owned;
  const owners = [...new Set(apps.map(ownerOf).filter((o): o is string => o !== undefined))];
  if (owners.length > 0) {
    throw new ApplicationNotFoundError(`The application ${name} belongs to tenant ${owners.join(", ")}, not to ${tenant}, the tenant you are logged in to.`, {
      hint: `Only the owner tenant can change it: use the credentials of a user of ${owners[0]} (C8Y_TENANT, C8Y_USER, C8Y_PASSWORD).`,
    });
  }
  throw new ApplicationNotFoundError(`Tenant ${tenant} has no application named ${name}.`, {
    hint: "Check the name (it is the `name` in cumulocity.json), or deploy the service first with `c8y-ms deploy`.",
  });
}
