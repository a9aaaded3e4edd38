import { expect } from "vitest";
import type { SandboxHandle, SandboxUser } from "./sandbox.js";

/** Arranging and reading platform state directly over the sandbox's REST API, beside the CLI under test. */

export interface PlatformApp {
  id: string;
  name: string;
  key: string;
  contextPath?: string;
  activeVersionId?: string;
  requiredRoles: string[];
  roles: string[];
  owner: { tenant: { id: string } };
}

let created = 0;

/** A bare microservice application named `<prefix>-<unique>`, owned by `as` (default: the owner's admin). */
export async function createApplication(sandbox: SandboxHandle, prefix: string, as: SandboxUser | "admin" = "admin"): Promise<PlatformApp> {
  const name = `${prefix}-${process.pid % 1000}-${++created}`;
  const response = await sandbox.fetch("/application/applications", {
    as,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as PlatformApp;
}

/** The applications named `name` that the owner's admin can see. */
export async function applicationsNamed(sandbox: SandboxHandle, name: string): Promise<PlatformApp[]> {
  const response = await sandbox.fetch(`/application/applications?name=${encodeURIComponent(name)}&pageSize=2000`);
  return ((await response.json()) as { applications: PlatformApp[] }).applications.filter((a) => a.name === name);
}

/** The ids of the applications `tenant` is subscribed to, read as that tenant's admin. */
export async function subscriptionsOf(sandbox: SandboxHandle, tenant: string): Promise<string[]> {
  const as = tenant === sandbox.owner ? "admin" : sandbox.subtenantAdmins[tenant];
  const response = await sandbox.fetch(`/tenant/tenants/${tenant}/applications?pageSize=2000`, { as });
  const body = (await response.json()) as { references: { application: { id: string } }[] };
  return body.references.map((r) => String(r.application.id));
}

/** The environment of the CLI logged in as the admin of subtenant `tenant`. */
export function subtenantEnv(sandbox: SandboxHandle, tenant: string): Record<string, string> {
  const admin = sandbox.subtenantAdmins[tenant];
  if (!admin) throw new Error(`The sandbox has no admin for ${tenant}.`);
  return { C8Y_HOST: sandbox.url, C8Y_TENANT: admin.tenant, C8Y_USER: admin.user, C8Y_PASSWORD: admin.password };
}
