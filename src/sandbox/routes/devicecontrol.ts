import { requireRoleOrOwner } from "../data/access.js";
import type { ChangeAction } from "../data/change-feed.js";
import { isId } from "../data/documents.js";
import { findManagedObject } from "../data/managed-objects.js";
import {
  deleteOperations,
  findOperation,
  insertOperation,
  operationInput,
  operationJson,
  queryOperations,
  updateOperation,
  type OperationFilter,
  type OperationRow,
} from "../data/operations.js";
import { notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { checkSources, database, dateParam, param, sendCollection } from "./data-helpers.js";

const READ = [ROLES.deviceControlRead, ROLES.deviceControlAdmin];
const ADMIN = [ROLES.deviceControlAdmin];

/** The device control API (c8y-docs "Device control"; roles from the OpenAPI). */
export const deviceControlRoutes: Route[] = [
  {
    method: "POST",
    path: "/devicecontrol/operations",
    access: "user",
    handle: async (call) => {
      const input = operationInput(await readJsonObject(call.req));
      const db = await database(call);
      await checkSources(db, call, [input.device], ADMIN, "devicecontrol");
      const row = await insertOperation(db, call.principal.tenant, input);
      const document = operationJson(row, call.core.baseUrl);
      await publish(call, "CREATE", [row]);
      sendJson(call.req, call.res, 201, "operation", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/devicecontrol/operations",
    access: "user",
    roles: READ,
    handle: async (call) => {
      const db = await database(call);
      const filter = operationFilter(call);
      await sendCollection(call, "operationCollection", "operations", async (window) => {
        const { rows, total } = await queryOperations(db, call.principal.tenant, filter, call.url.searchParams.get("revert") === "true", window);
        return { items: rows.map((row) => operationJson(row, call.core.baseUrl)), total };
      });
    },
  },
  {
    method: "DELETE",
    path: "/devicecontrol/operations",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const rows = await deleteOperations(await database(call), call.principal.tenant, operationFilter(call));
      await publish(call, "DELETE", rows);
      sendJson(call.req, call.res, 204, "operation", undefined);
    },
  },
  {
    method: "GET",
    path: "/devicecontrol/operations/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call);
      requireRoleOrOwner(call.principal, READ, (await findManagedObject(db, call.principal.tenant, row.device))?.owner);
      sendJson(call.req, call.res, 200, "operation", operationJson(row, call.core.baseUrl));
    },
  },
  {
    method: "PUT",
    path: "/devicecontrol/operations/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call);
      requireRoleOrOwner(call.principal, ADMIN, (await findManagedObject(db, call.principal.tenant, row.device))?.owner);
      const updated = await updateOperation(db, call.principal.tenant, row, await readJsonObject(call.req));
      await publish(call, "UPDATE", [updated]);
      sendJson(call.req, call.res, 200, "operation", operationJson(updated, call.core.baseUrl));
    },
  },
];

function idParam(call: AuthenticatedCall, name: string): string | undefined {
  const value = param(call, name);
  return value === undefined ? undefined : isId(value) ? value : "0";
}

function operationFilter(call: AuthenticatedCall): OperationFilter {
  return {
    deviceId: idParam(call, "deviceId"),
    agentId: idParam(call, "agentId"),
    status: param(call, "status"),
    fragmentType: param(call, "fragmentType"),
    dateFrom: dateParam(call, "dateFrom"),
    dateTo: dateParam(call, "dateTo"),
  };
}

async function existing(call: AuthenticatedCall): Promise<OperationRow> {
  const id = call.params.id ?? "";
  const row = isId(id) ? await findOperation(await database(call), call.principal.tenant, id) : undefined;
  if (!row) throw notFound("devicecontrol/Not Found", `Operation with id ${id} not found.`);
  return row;
}

function publish(call: AuthenticatedCall, action: ChangeAction, rows: readonly OperationRow[]): Promise<void> {
  return call.core.data.feed.publish(
    rows.map((row) => ({
      tenant: call.principal.tenant,
      api: "operations",
      action,
      id: row.id,
      source: row.device,
      type: undefined,
      document: action === "DELETE" ? { id: row.id } : operationJson(row, call.core.baseUrl),
    })),
  );
}
