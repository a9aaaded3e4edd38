import type { Principal } from "../auth.js";
import { forbidden } from "../http.js";

/**
 * The platform's rule for most data endpoints (OpenAPI "Required roles", platform.md
 * [OAS]): a role, OR being the owner of the source. Inventory roles (MANAGE_OBJECT_* on
 * single objects) are not modelled.
 */
export function hasRole(principal: Principal, roles: readonly string[]): boolean {
  return roles.some((role) => principal.user.roles.includes(role));
}

export function requireRoleOrOwner(principal: Principal, roles: readonly string[], owner: string | undefined): void {
  if (hasRole(principal, roles)) return;
  if (owner !== undefined && owner === principal.user.name) return;
  throw forbidden();
}
