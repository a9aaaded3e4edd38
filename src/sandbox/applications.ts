import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ApiError, forbidden, invalidData, notFound } from "./http.js";
import { subscribedApplications } from "./representations.js";
import { generatePassword, type ApplicationRecord, type SandboxState, type Store, type UserRecord } from "./state.js";

/**
 * The application model of the platform (platform.md §1.6, §3.3 #5–#14, §4.4): validation of
 * names and context paths, ownership and visibility, subscriptions with their service users,
 * and bootstrap users. Routes and the upload handler share these rules.
 */

export const APPLICATION_TYPES = ["MICROSERVICE", "HOSTED", "EXTERNAL", "FEATURE"] as const;
export const AVAILABILITIES = ["PRIVATE", "MARKET", "SHARED"] as const;

/** The exact platform texts (platform.md §1.6: [ISS-NAME], [ISS-CTX]); both come as 422 `application/Invalid Data`. */
export const NAME_ERROR = "Microservice application name is incorrect: only lower case letters, digits and dashes allowed. Maximum length: 23.";
export const CONTEXT_PATH_ERROR = "Application context path incorrect. Only word characters and /-._~ are allowed";
const INVALID = "application/Invalid Data";

/** 422 `application/Invalid Data`, the platform's answer to an invalid application or binary. */
export const invalidDataError = (message: string) => invalidData(INVALID, message);

const MICROSERVICE_NAME = /^[a-z0-9-]{1,23}$/;
/**
 * The documented character set (platform.md §1.6). The platform's error text also names "/",
 * but a context path with a slash could not be told apart from the path behind it at
 * `/service/<contextPath>/...`, so the sandbox refuses it (a choice; the platform is unclear).
 */
const CONTEXT_PATH = /^[A-Za-z0-9._~-]{1,255}$/;

export function bootstrapUserName(app: Pick<ApplicationRecord, "name">): string {
  return `servicebootstrap_${app.name}`;
}

export function serviceUserName(app: Pick<ApplicationRecord, "name">): string {
  return `service_${app.name}`;
}

export function findApplication(state: SandboxState, id: string): ApplicationRecord {
  const app = state.applications.find((a) => a.id === id);
  if (!app) throw notFound("applications/Not Found", `Application with id ${id} not found.`);
  return app;
}

export function isSubscribed(state: SandboxState, tenant: string, applicationId: string): boolean {
  return state.subscriptions.some((s) => s.tenant === tenant && s.application === applicationId);
}

export function ancestorsOf(state: SandboxState, tenant: string): string[] {
  const result: string[] = [];
  let current = state.tenants.find((t) => t.id === tenant);
  while (current?.parent) {
    result.push(current.parent);
    current = state.tenants.find((t) => t.id === current?.parent);
  }
  return result;
}

/**
 * Owned, subscribed, or offered by an ancestor on the marketplace. A PRIVATE application of a
 * parent is invisible to its subtenants until the parent subscribes them (DERIVED from the
 * meaning of `availability`, platform.md §3.3 #5).
 */
export function isVisible(state: SandboxState, tenant: string, app: ApplicationRecord): boolean {
  if (app.owner === tenant || isSubscribed(state, tenant, app.id)) return true;
  return app.availability !== "PRIVATE" && ancestorsOf(state, tenant).includes(app.owner);
}

/** An application the caller may see; others are answered as not found, like the platform. */
export function visibleApplication(state: SandboxState, tenant: string, id: string): ApplicationRecord {
  const app = findApplication(state, id);
  if (!isVisible(state, tenant, app)) throw notFound("applications/Not Found", `Application with id ${id} not found.`);
  return app;
}

/** Changes (update, upload, delete, bootstrap credentials) are for the owner tenant only. */
export function ownedApplication(state: SandboxState, tenant: string, id: string): ApplicationRecord {
  const app = visibleApplication(state, tenant, id);
  if (app.owner !== tenant) throw forbidden();
  return app;
}

export interface ApplicationInput {
  name?: unknown;
  key?: unknown;
  type?: unknown;
  availability?: unknown;
  contextPath?: unknown;
  requiredRoles?: unknown;
  roles?: unknown;
  description?: unknown;
  manifest?: unknown;
}

/** Checks a create or update body against the platform's rules; 422 names the field. */
export function checkApplicationInput(input: ApplicationInput, type: string, creating: boolean): void {
  const string = (field: keyof ApplicationInput, required: boolean) => {
    const value = input[field];
    if (value === undefined && !(required && creating)) return;
    if (typeof value !== "string" || value.trim() === "") throw invalidDataError(`Application ${field} must be a non-empty string.`);
  };
  string("name", true);
  string("key", true);
  string("type", true);
  if (creating && !(APPLICATION_TYPES as readonly string[]).includes(type)) {
    throw invalidDataError(`Application type must be one of ${APPLICATION_TYPES.join(", ")}.`);
  }
  if (typeof input.name === "string") {
    if (type === "MICROSERVICE" && !MICROSERVICE_NAME.test(input.name)) throw invalidDataError(NAME_ERROR);
    if (input.name.length > 128) throw invalidDataError("Application name may have at most 128 characters.");
  }
  if (typeof input.key === "string" && input.key.length > 128) throw invalidDataError("Application key may have at most 128 characters.");
  if (input.contextPath !== undefined && (typeof input.contextPath !== "string" || !CONTEXT_PATH.test(input.contextPath))) {
    throw invalidDataError(CONTEXT_PATH_ERROR);
  }
  if (input.availability !== undefined && !(AVAILABILITIES as readonly unknown[]).includes(input.availability)) {
    throw invalidDataError(`Application availability must be one of ${AVAILABILITIES.join(", ")}.`);
  }
  for (const field of ["requiredRoles", "roles"] as const) {
    const value = input[field];
    if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) {
      throw invalidDataError(`Application ${field} must be a list of role names.`);
    }
  }
  if (input.manifest !== undefined && (typeof input.manifest !== "object" || input.manifest === null || Array.isArray(input.manifest))) {
    throw invalidDataError("Application manifest must be an object.");
  }
}

/**
 * Whose applications a new one must not clash with: its owner's own and those of the owner's
 * ancestors, which the owner's tenants may be subscribed to. Never a subtenant's: a
 * subtenant's application can neither be subscribed to by its parent nor block the parent's
 * names (docs/platform-evidence.md §7: the platform checks "for tenant <t>" what that tenant
 * has; nothing says a subtenant's application is checked against its parent's).
 */
function clashScope(state: SandboxState, owner: string): Set<string> {
  return new Set([owner, ...ancestorsOf(state, owner)]);
}

/**
 * Names are unique within the owner tenant; keys and context paths within the applications
 * its tenants can reach (clashScope), or the gateway could not tell services apart. The
 * platform's exact 409 texts are undocumented; ours name only what the caller sent, never an
 * application of another tenant.
 */
export function checkUnique(state: SandboxState, candidate: Pick<ApplicationRecord, "id" | "name" | "key" | "owner" | "contextPath">): void {
  const scope = clashScope(state, candidate.owner);
  for (const other of state.applications) {
    if (other.id === candidate.id || !scope.has(other.owner)) continue;
    if (other.owner === candidate.owner && other.name === candidate.name) {
      throw new ApiError(409, "applications/Duplicate", `Application with name '${candidate.name}' already exists.`);
    }
    if (other.key === candidate.key) throw new ApiError(409, "applications/Duplicate", `The application key '${candidate.key}' is taken; choose another key.`);
    if (candidate.contextPath !== undefined && other.contextPath === candidate.contextPath) {
      throw new ApiError(409, "applications/Duplicate", `The context path '${candidate.contextPath}' is taken; choose another contextPath.`);
    }
  }
}

export async function createApplication(store: Store, owner: string, input: ApplicationInput): Promise<ApplicationRecord> {
  const type = String(input.type ?? "");
  checkApplicationInput(input, type, true);
  const now = new Date().toISOString();
  const name = input.name as string;
  const app: ApplicationRecord = {
    id: store.nextId(),
    name,
    key: input.key as string,
    type,
    availability: (input.availability as string | undefined) ?? "PRIVATE",
    owner,
    requiredRoles: (input.requiredRoles as string[] | undefined) ?? [],
    roles: (input.roles as string[] | undefined) ?? [],
    created: now,
    lastUpdated: now,
  };
  // A microservice is reached at /service/<contextPath>, which defaults to its name (platform.md §1.1).
  const contextPath = (input.contextPath as string | undefined) ?? (type === "MICROSERVICE" ? name : undefined);
  if (contextPath !== undefined) app.contextPath = contextPath;
  if (typeof input.description === "string") app.description = input.description;
  if (input.manifest !== undefined) app.manifest = input.manifest as Record<string, unknown>;
  checkUnique(store.state, app);
  store.state.applications.push(app);
  if (type === "MICROSERVICE") {
    app.statusObjectId = store.nextId();
    store.state.users.push({ tenant: owner, name: bootstrapUserName(app), password: generatePassword(), roles: [], kind: "bootstrap", application: app.id });
  }
  await store.save();
  return app;
}

/** PUT: the fields a client may change; id, type, owner and versions are the platform's own. */
export async function updateApplication(store: Store, app: ApplicationRecord, input: ApplicationInput): Promise<ApplicationRecord> {
  checkApplicationInput(input, app.type, false);
  const next: ApplicationRecord = { ...app };
  if (typeof input.name === "string") next.name = input.name;
  if (typeof input.key === "string") next.key = input.key;
  if (typeof input.availability === "string") next.availability = input.availability;
  if (typeof input.contextPath === "string") next.contextPath = input.contextPath;
  if (typeof input.description === "string") next.description = input.description;
  if (Array.isArray(input.requiredRoles)) next.requiredRoles = input.requiredRoles as string[];
  if (Array.isArray(input.roles)) next.roles = input.roles as string[];
  if (input.manifest !== undefined) next.manifest = input.manifest as Record<string, unknown>;
  checkUnique(store.state, next);
  if (next.name !== app.name && app.type === "MICROSERVICE" && app.activeVersionId !== undefined) {
    throw invalidDataError("A microservice with an uploaded binary cannot be renamed.");
  }
  next.lastUpdated = new Date().toISOString();
  Object.assign(app, next);
  syncApplicationUsers(store.state, app);
  await store.save();
  return app;
}

/**
 * Bootstrap and service users follow the application's name. Their roles do not follow its
 * required roles: a service user holds the roles its tenant granted when it subscribed, and
 * new roles reach it only when that tenant subscribes again (docs/platform-evidence.md §6:
 * the roles are given "as part of the subscription"; nothing public says a later change
 * reaches existing subscribers, and granting a tenant's rights without that tenant's consent
 * would let a service raise its own rights).
 */
export function syncApplicationUsers(state: SandboxState, app: ApplicationRecord): void {
  for (const user of state.users) {
    if (user.application !== app.id) continue;
    if (user.kind === "bootstrap") user.name = bootstrapUserName(app);
    if (user.kind === "service") user.name = serviceUserName(app);
  }
}

export async function deleteApplication(store: Store, app: ApplicationRecord, force: boolean): Promise<void> {
  const state = store.state;
  const foreign = state.subscriptions.filter((s) => s.application === app.id && s.tenant !== app.owner);
  // Legacy reference: an application is deletable when PRIVATE or unsubscribed; `force`
  // unsubscribes every tenant first (platform.md §3.3 #11).
  if (foreign.length > 0 && app.availability !== "PRIVATE" && !force) {
    throw new ApiError(
      409,
      "applications/Conflict",
      `Application ${app.name} is subscribed by ${foreign.map((s) => s.tenant).join(", ")}; delete it with force=true to unsubscribe them first.`,
    );
  }
  state.subscriptions = state.subscriptions.filter((s) => s.application !== app.id);
  state.users = state.users.filter((u) => u.application !== app.id);
  state.applications = state.applications.filter((a) => a.id !== app.id);
  state.versions = state.versions.filter((v) => v.application !== app.id);
  await store.save();
  await rm(join(store.dataDir, "binaries", app.id), { recursive: true, force: true });
}

export async function subscribe(store: Store, tenant: string, app: ApplicationRecord): Promise<void> {
  const state = store.state;
  if (isSubscribed(state, tenant, app.id)) {
    throw new ApiError(409, "tenants/Conflict", `Application with id ${app.id} is already assigned to the tenant ${tenant}`);
  }
  // One context path leads to one service per tenant: the gateway routes by path and tenant.
  const sharesPath = app.contextPath !== undefined && subscribedApplications(state, tenant).some((other) => other.contextPath === app.contextPath);
  if (sharesPath) {
    throw new ApiError(409, "tenants/Conflict", `Tenant ${tenant} is subscribed to another application at the context path '${app.contextPath}'; unsubscribe it first.`);
  }
  state.subscriptions.push({ tenant, application: app.id, created: new Date().toISOString() });
  if (app.type === "MICROSERVICE") {
    const serviceUser: UserRecord = {
      tenant,
      name: serviceUserName(app),
      password: generatePassword(),
      roles: [...app.requiredRoles],
      kind: "service",
      application: app.id,
    };
    state.users.push(serviceUser);
  }
  await store.save();
}

/**
 * Ends `tenant`'s subscription to the application with id `id`. An application that does not
 * exist gets the same answer as one the tenant is not subscribed to, so the call tells nothing
 * about other tenants' applications.
 */
export async function unsubscribe(store: Store, tenant: string, id: string): Promise<ApplicationRecord> {
  const state = store.state;
  const app = state.applications.find((a) => a.id === id);
  if (!app || !isSubscribed(state, tenant, app.id)) {
    throw notFound("tenants/Not Found", `Application with id ${id} is NOT assigned to the tenant ${tenant}`);
  }
  state.subscriptions = state.subscriptions.filter((s) => !(s.tenant === tenant && s.application === app.id));
  // The service user of that tenant goes with the subscription; its password stops working.
  state.users = state.users.filter((u) => !(u.kind === "service" && u.application === app.id && u.tenant === tenant));
  await store.save();
  return app;
}

export function subscribersOf(state: SandboxState, app: ApplicationRecord): string[] {
  return state.subscriptions.filter((s) => s.application === app.id).map((s) => s.tenant);
}

export function serviceUsersOf(state: SandboxState, app: ApplicationRecord): UserRecord[] {
  return state.users.filter((u) => u.kind === "service" && u.application === app.id);
}

export function bootstrapUserOf(state: SandboxState, app: ApplicationRecord): UserRecord | undefined {
  return state.users.find((u) => u.kind === "bootstrap" && u.application === app.id);
}
