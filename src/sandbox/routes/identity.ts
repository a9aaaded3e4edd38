import { requireRoleOrOwner } from "../data/access.js";
import { requireFields, isId } from "../data/documents.js";
import { addExternalId, externalIdJson, externalIdsOf, findExternalId, removeExternalId, type ExternalIdRow } from "../data/identity.js";
import { findManagedObject } from "../data/managed-objects.js";
import { ApiError, notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { database } from "./data-helpers.js";

const READ = [ROLES.identityRead, ROLES.identityAdmin];
const ADMIN = [ROLES.identityAdmin];

/** The identity API (c8y-docs "Identity"; roles from the OpenAPI: the role, or owning the object). */
export const identityRoutes: Route[] = [
  {
    method: "GET",
    path: "/identity/globalIds/:id/externalIds",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const mo = await managedObject(call);
      requireRoleOrOwner(call.principal, READ, mo.owner);
      const ids = await externalIdsOf(db, call.principal.tenant, mo.id);
      sendJson(call.req, call.res, 200, "externalIdCollection", {
        self: `${call.core.baseUrl}/identity/globalIds/${mo.id}/externalIds`,
        externalIds: ids.map((row) => externalIdJson(row, call.core.baseUrl)),
      });
    },
  },
  {
    method: "POST",
    path: "/identity/globalIds/:id/externalIds",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const mo = await managedObject(call);
      requireRoleOrOwner(call.principal, ADMIN, mo.owner);
      const body = await readJsonObject(call.req);
      requireFields(body, ["externalId", "type"]);
      const type = String(body.type);
      const value = String(body.externalId);
      if (!(await addExternalId(db, call.principal.tenant, mo.id, type, value))) {
        // The platform's text (NGX translations, docs/platform-evidence.md §9); 409 is the OpenAPI's status.
        throw new ApiError(409, "identity/Conflict", `ID [type=${type}, value=${value}] was already bound to different Global ID.`);
      }
      const row: ExternalIdRow = { type, value, mo: mo.id, owner: mo.owner };
      const document = externalIdJson(row, call.core.baseUrl);
      sendJson(call.req, call.res, 201, "externalId", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/identity/externalIds/:type/:value",
    access: "user",
    handle: async (call) => {
      const row = await externalId(call);
      requireRoleOrOwner(call.principal, READ, row.owner);
      sendJson(call.req, call.res, 200, "externalId", externalIdJson(row, call.core.baseUrl));
    },
  },
  {
    method: "DELETE",
    path: "/identity/externalIds/:type/:value",
    access: "user",
    handle: async (call) => {
      const row = await externalId(call);
      requireRoleOrOwner(call.principal, ADMIN, row.owner);
      await removeExternalId(await database(call), call.principal.tenant, row.type, row.value);
      sendJson(call.req, call.res, 204, "externalId", undefined);
    },
  },
];

async function managedObject(call: AuthenticatedCall) {
  const id = call.params.id ?? "";
  const mo = isId(id) ? await findManagedObject(await database(call), call.principal.tenant, id) : undefined;
  if (!mo) throw notFound("identity/Not Found", `Managed object with id ${id} not found.`);
  return mo;
}

async function externalId(call: AuthenticatedCall): Promise<ExternalIdRow> {
  const type = call.params.type ?? "";
  const value = call.params.value ?? "";
  const row = await findExternalId(await database(call), call.principal.tenant, type, value);
  // The platform's text, as clients print it when a device is not registered yet.
  if (!row) throw notFound("identity/Not Found", `External id not found; external id = ID [type=${type}, value=${value}]`);
  return row;
}
