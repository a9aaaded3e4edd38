import { requireRoleOrOwner } from "../data/access.js";
import type { Database, Queryable } from "../data/database.js";
import { ownersOf, type PageWindow } from "../data/managed-objects.js";
import { ApiError, collection, pageOf, readPaging, sendJson, type Paging } from "../http.js";
import type { AuthenticatedCall } from "../router.js";

/** What the routes of the data APIs share: the lazily opened database and SQL-paged collections. */

export function database(call: AuthenticatedCall): Promise<Database> {
  return call.core.data.database();
}

export function pageWindow(paging: Paging): PageWindow {
  return { limit: paging.pageSize, offset: paging.offset, withTotal: paging.withTotalPages || paging.withTotalElements };
}

/** Reads the paging parameters, lets `load` fetch that page in SQL, and answers the collection. */
export async function sendCollection<T>(
  call: AuthenticatedCall,
  mediaType: string,
  key: string,
  load: (window: PageWindow) => Promise<{ items: T[]; total: number | undefined }>,
): Promise<void> {
  const paging = readPaging(call.url);
  const { items, total } = await load(pageWindow(paging));
  sendJson(call.req, call.res, 200, mediaType, collection(key, pageOf(items, call.url, paging, total)));
}

/** A query parameter, or undefined when absent or empty. */
export function param(call: AuthenticatedCall, name: string): string | undefined {
  const value = call.url.searchParams.get(name);
  return value === null || value === "" ? undefined : value;
}

/** A date query parameter (`dateFrom`, `dateTo`); an unreadable one is a 422 naming it. */
export function dateParam(call: AuthenticatedCall, name: string): Date | undefined {
  const value = param(call, name);
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ApiError(422, "general/invalidParameter", `${name} must be a date or date and time in ISO 8601, got '${value}'.`);
  return date;
}

/**
 * The managed objects that documents name as their source must exist in the caller's tenant,
 * and a caller without the API's role must own each of them (OpenAPI: "ROLE_X_ADMIN OR owner
 * of the source").
 */
export async function checkSources(db: Queryable, call: AuthenticatedCall, sources: readonly string[], roles: readonly string[], resource: string): Promise<void> {
  const owners = await ownersOf(db, call.principal.tenant, sources);
  for (const source of sources) {
    const owner = owners.get(source);
    if (owner === undefined) throw new ApiError(422, `${resource}/Unprocessable Entity`, `The source managed object ${source} does not exist.`);
    requireRoleOrOwner(call.principal, roles, owner);
  }
}
