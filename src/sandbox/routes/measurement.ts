import { requireRoleOrOwner } from "../data/access.js";
import type { ChangeAction } from "../data/change-feed.js";
import { isId, validationError, type Json } from "../data/documents.js";
import { findManagedObject } from "../data/managed-objects.js";
import {
  deleteMeasurements,
  findMeasurement,
  insertMeasurements,
  measurementInput,
  measurementJson,
  queryMeasurements,
  type MeasurementFilter,
  type MeasurementRow,
} from "../data/measurements.js";
import { notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { checkSources, database, dateParam, param, sendCollection } from "./data-helpers.js";

const READ = [ROLES.measurementRead, ROLES.measurementAdmin];
const ADMIN = [ROLES.measurementAdmin];
/** Larger than the 1 MB of other bodies: a collection of 2,000 measurements with a few fragments each. */
const COLLECTION_BODY_LIMIT = 16 * 1024 * 1024;

/** The measurement API (c8y-docs "Measurements"; roles from the OpenAPI). */
export const measurementRoutes: Route[] = [
  {
    method: "POST",
    path: "/measurement/measurements",
    access: "user",
    handle: async (call) => {
      const body = await readJsonObject(call.req, COLLECTION_BODY_LIMIT);
      // `measurementCollection` media type: {"measurements": [...]}, answered as a collection.
      const many = /measurementCollection/i.test(call.req.headers["content-type"] ?? "") || Array.isArray(body.measurements);
      const documents = many ? collectionItems(body) : [body];
      const inputs = documents.map(measurementInput);
      const db = await database(call);
      await checkSources(db, call, inputs.map((i) => i.source), ADMIN, "measurement");
      const rows = await insertMeasurements(db, call.principal.tenant, inputs);
      const created = rows.map((row) => measurementJson(row, call.core.baseUrl));
      await publish(call, "CREATE", rows, created);
      if (many) sendJson(call.req, call.res, 201, "measurementCollection", { self: `${call.core.baseUrl}/measurement/measurements`, measurements: created });
      else sendJson(call.req, call.res, 201, "measurement", created[0], { location: String(created[0]?.self) });
    },
  },
  {
    method: "GET",
    path: "/measurement/measurements",
    access: "user",
    roles: READ,
    handle: async (call) => {
      const db = await database(call);
      const filter = measurementFilter(call);
      const revert = call.url.searchParams.get("revert") === "true";
      await sendCollection(call, "measurementCollection", "measurements", async (window) => {
        const { rows, total } = await queryMeasurements(db, call.principal.tenant, filter, revert, window);
        return { items: rows.map((row) => measurementJson(row, call.core.baseUrl)), total };
      });
    },
  },
  {
    method: "DELETE",
    path: "/measurement/measurements",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const db = await database(call);
      const deleted = await deleteMeasurements(db, call.principal.tenant, measurementFilter(call));
      await publishDeleted(call, deleted);
      sendJson(call.req, call.res, 204, "measurement", undefined);
    },
  },
  {
    method: "GET",
    path: "/measurement/measurements/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call, db);
      const source = await findManagedObject(db, call.principal.tenant, row.source);
      requireRoleOrOwner(call.principal, READ, source?.owner);
      sendJson(call.req, call.res, 200, "measurement", measurementJson(row, call.core.baseUrl));
    },
  },
  {
    method: "DELETE",
    path: "/measurement/measurements/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(call, db);
      const source = await findManagedObject(db, call.principal.tenant, row.source);
      requireRoleOrOwner(call.principal, ADMIN, source?.owner);
      await publishDeleted(call, await deleteMeasurements(db, call.principal.tenant, { id: row.id }));
      sendJson(call.req, call.res, 204, "measurement", undefined);
    },
  },
];

function collectionItems(body: Json): Json[] {
  const items = body.measurements;
  if (!Array.isArray(items) || items.length === 0 || !items.every((m) => typeof m === "object" && m !== null && !Array.isArray(m))) {
    throw validationError('A measurement collection is {"measurements": [{...}, ...]} with at least one measurement.');
  }
  return items as Json[];
}

function measurementFilter(call: AuthenticatedCall): MeasurementFilter {
  const source = param(call, "source");
  return {
    // An id that cannot exist finds nothing rather than failing the cast.
    source: source === undefined ? undefined : isId(source) ? source : "0",
    type: param(call, "type"),
    valueFragmentType: param(call, "valueFragmentType"),
    valueFragmentSeries: param(call, "valueFragmentSeries"),
    dateFrom: dateParam(call, "dateFrom"),
    dateTo: dateParam(call, "dateTo"),
  };
}

async function existing(call: AuthenticatedCall, db: Awaited<ReturnType<typeof database>>): Promise<MeasurementRow> {
  const id = call.params.id ?? "";
  const row = isId(id) ? await findMeasurement(db, call.principal.tenant, id) : undefined;
  if (!row) throw notFound("measurement/Not Found", `Measurement with id ${id} not found.`);
  return row;
}

function publish(call: AuthenticatedCall, action: ChangeAction, rows: readonly MeasurementRow[], documents: readonly Json[]): Promise<void> {
  return call.core.data.feed.publish(
    rows.map((row, i) => ({ tenant: call.principal.tenant, api: "measurements", action, id: row.id, source: row.source, type: row.type, document: documents[i] ?? {} })),
  );
}

function publishDeleted(call: AuthenticatedCall, deleted: readonly { id: string; source: string; type: string }[]): Promise<void> {
  return call.core.data.feed.publish(
    deleted.map((d) => ({ tenant: call.principal.tenant, api: "measurements", action: "DELETE", id: d.id, source: d.source, type: d.type, document: { id: d.id } })),
  );
}
