import { hasRole, requireRoleOrOwner } from "../data/access.js";
import {
  alarmInput,
  alarmJson,
  countAlarms,
  deleteAlarms,
  findAlarm,
  queryAlarms,
  raiseAlarm,
  setAlarmStatus,
  updateAlarm,
  type AlarmFilter,
  type AlarmRow,
} from "../data/alarms.js";
import type { ChangeAction } from "../data/change-feed.js";
import { isId, validationError } from "../data/documents.js";
import { findManagedObject } from "../data/managed-objects.js";
import { notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { checkSources, database, dateParam, param, sendCollection } from "./data-helpers.js";

const READ = [ROLES.alarmRead, ROLES.alarmAdmin];
const ADMIN = [ROLES.alarmAdmin];

/**
 * The alarm API (c8y-docs "Alarms"; roles from the OpenAPI). Listing and counting need no
 * role: with ROLE_ALARM_READ a caller sees every alarm of the tenant, without it only the
 * alarms of the objects it owns.
 */
export const alarmRoutes: Route[] = [
  {
    method: "POST",
    path: "/alarm/alarms",
    access: "user",
    handle: async (call) => {
      const input = alarmInput(await readJsonObject(call.req));
      const db = await database(call);
      await checkSources(db, call, [input.source], ADMIN, "alarm");
      const { row, deduplicated } = await raiseAlarm(db, call.principal.tenant, input);
      const document = alarmJson(row, call.core.baseUrl);
      await publish(call, deduplicated ? "UPDATE" : "CREATE", [row]);
      sendJson(call.req, call.res, 201, "alarm", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/alarm/alarms",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const filter = alarmFilter(call);
      await sendCollection(call, "alarmCollection", "alarms", async (window) => {
        const { rows, total } = await queryAlarms(db, call.principal.tenant, filter, call.url.searchParams.get("revert") === "true", window);
        return { items: rows.map((row) => alarmJson(row, call.core.baseUrl)), total };
      });
    },
  },
  {
    method: "GET",
    path: "/alarm/alarms/count",
    access: "user",
    handle: async (call) => {
      const count = await countAlarms(await database(call), call.principal.tenant, alarmFilter(call));
      const text = String(count);
      call.res.writeHead(200, { "content-type": "application/json;charset=UTF-8", "content-length": String(text.length) }).end(text);
    },
  },
  {
    method: "PUT",
    path: "/alarm/alarms",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      if (typeof body.status !== "string") throw validationError('A bulk update sets the status: {"status": "ACKNOWLEDGED"}.');
      // OpenAPI: the bulk update needs at least one query parameter (it would touch every alarm).
      if ([...call.url.searchParams.keys()].length === 0) throw validationError("A bulk update needs at least one query parameter, e.g. ?source=<id>&status=ACTIVE.");
      const rows = await setAlarmStatus(await database(call), call.principal.tenant, alarmFilter(call), body.status);
      await publish(call, "UPDATE", rows);
      // c8y-docs: 200 when the update is done (202 would say it goes on in the background).
      call.res.writeHead(200).end();
    },
  },
  {
    method: "DELETE",
    path: "/alarm/alarms",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const rows = await deleteAlarms(await database(call), call.principal.tenant, alarmFilter(call));
      await publish(call, "DELETE", rows);
      sendJson(call.req, call.res, 204, "alarm", undefined);
    },
  },
  {
    method: "GET",
    path: "/alarm/alarms/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call);
      requireRoleOrOwner(call.principal, READ, (await findManagedObject(db, call.principal.tenant, row.source))?.owner);
      sendJson(call.req, call.res, 200, "alarm", alarmJson(row, call.core.baseUrl));
    },
  },
  {
    method: "PUT",
    path: "/alarm/alarms/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call);
      requireRoleOrOwner(call.principal, ADMIN, (await findManagedObject(db, call.principal.tenant, row.source))?.owner);
      const updated = await updateAlarm(db, call.principal.tenant, row, await readJsonObject(call.req));
      await publish(call, "UPDATE", [updated]);
      sendJson(call.req, call.res, 200, "alarm", alarmJson(updated, call.core.baseUrl));
    },
  },
];

function list(call: AuthenticatedCall, name: string): string[] | undefined {
  return param(call, name)?.split(",").map((v) => v.trim()).filter(Boolean);
}

function alarmFilter(call: AuthenticatedCall): AlarmFilter {
  const source = param(call, "source");
  const resolved = param(call, "resolved");
  return {
    source: source === undefined ? undefined : isId(source) ? source : "0",
    // `resolved` wins over `status` (OpenAPI AlarmsApi).
    status: resolved === undefined ? list(call, "status") : undefined,
    severity: list(call, "severity"),
    type: list(call, "type"),
    resolved: resolved === undefined ? undefined : resolved === "true",
    dateFrom: dateParam(call, "dateFrom"),
    dateTo: dateParam(call, "dateTo"),
    createdFrom: dateParam(call, "createdFrom"),
    createdTo: dateParam(call, "createdTo"),
    ownedBy: hasRole(call.principal, READ) ? undefined : call.principal.user.name,
  };
}

async function existing(call: AuthenticatedCall): Promise<AlarmRow> {
  const id = call.params.id ?? "";
  const row = isId(id) ? await findAlarm(await database(call), call.principal.tenant, id) : undefined;
  if (!row) throw notFound("alarm/Not Found", `Alarm with id ${id} not found.`);
  return row;
}

function publish(call: AuthenticatedCall, action: ChangeAction, rows: readonly AlarmRow[]): Promise<void> {
  return call.core.data.feed.publish(
    rows.map((row) => ({
      tenant: call.principal.tenant,
      api: "alarms",
      action,
      id: row.id,
      source: row.source,
      type: row.type,
      document: action === "DELETE" ? { id: row.id } : alarmJson(row, call.core.baseUrl),
    })),
  );
}
