import type { Queryable } from "./database.js";
import { fragmentNames, fragmentsOf, mergeFragments, readTime, referencedId, requireFields, validationError, type Json } from "./documents.js";
import { managedObjectSelf, type PageWindow } from "./managed-objects.js";
import { allOf, SqlParams, timeConditions } from "./sql.js";

/**
 * Alarms (c8y-docs "Alarms", OpenAPI Alarms). De-duplication as the platform documents it:
 * "If an active or acknowledged alarm (does not work for the CLEARED status) with the same
 * source and type exists, no new alarm is created. Instead, the existing alarm is updated by
 * incrementing the count property, and the time property is also updated. Any other changes
 * are ignored ... The first occurrence of the alarm is recorded in firstOccurrenceTime."
 */

export const SEVERITIES = ["CRITICAL", "MAJOR", "MINOR", "WARNING"] as const;
export const STATUSES = ["ACTIVE", "ACKNOWLEDGED", "CLEARED"] as const;
const FIXED = new Set(["id", "self", "time", "type", "source", "text", "severity", "status", "count", "firstOccurrenceTime", "creationTime", "lastUpdated", "history"]);

export interface AlarmRow {
  id: string;
  source: string;
  /** Recorded alarms carry their source's name (test/fixtures/platform/alarm/alarm.json). */
  source_name: string | null;
  type: string;
  status: string;
  severity: string;
  time: Date;
  first_occurrence_time: Date;
  creation_time: Date;
  last_updated: Date;
  count: number;
  body: Json;
}

const COLUMNS =
  "a.id::text as id, a.source::text as source, (select m.name from managed_objects m where m.id = a.source) as source_name, a.type, a.status, a.severity, a.time, a.first_occurrence_time, a.creation_time, a.last_updated, a.count, a.body";

export interface AlarmInput {
  source: string;
  type: string;
  time: Date;
  severity: string;
  status: string;
  body: Json;
}

function oneOf(value: unknown, allowed: readonly string[], field: string): string {
  if (typeof value !== "string" || !allowed.includes(value)) throw validationError(`${field} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`);
  return value;
}

export function alarmInput(body: Json): AlarmInput {
  requireFields(body, ["source", "type", "text", "time", "severity"]);
  if (typeof body.type !== "string" || typeof body.text !== "string") throw validationError("type and text must be strings.");
  return {
    source: referencedId(body.source, "source"),
    type: body.type,
    time: readTime(body.time, "time"),
    severity: oneOf(body.severity, SEVERITIES, "severity"),
    status: body.status === undefined ? "ACTIVE" : oneOf(body.status, STATUSES, "status"),
    body: { text: body.text, ...fragmentsOf(body, FIXED) },
  };
}

/** Creates the alarm, or counts it on the open alarm of the same source and type. */
export async function raiseAlarm(db: Queryable, tenant: string, input: AlarmInput): Promise<{ row: AlarmRow; deduplicated: boolean }> {
  if (input.status !== "CLEARED") {
    const { rows } = await db.query<AlarmRow>(
      `update alarms a set count = a.count + 1, time = $4, last_updated = now()
       where id = (select id from alarms where tenant = $1 and source = $2 and type = $3 and status in ('ACTIVE', 'ACKNOWLEDGED') order by id limit 1)
       returning ${COLUMNS}`,
      [tenant, input.source, input.type, input.time.toISOString()],
    );
    if (rows[0]) return { row: rows[0], deduplicated: true };
  }
  const { rows } = await db.query<AlarmRow>(
    `insert into alarms as a (tenant, id, source, type, status, severity, time, first_occurrence_time, creation_time, last_updated, count, fragments, body)
     values ($1, nextval('object_ids'), $2, $3, $4, $5, $6, $6, now(), now(), 1, $7, $8) returning ${COLUMNS}`,
    [tenant, input.source, input.type, input.status, input.severity, input.time.toISOString(), fragmentNames(input.body), input.body],
  );
  return { row: rows[0] as AlarmRow, deduplicated: false };
}

export async function findAlarm(db: Queryable, tenant: string, id: string): Promise<AlarmRow | undefined> {
  const { rows } = await db.query<AlarmRow>(`select ${COLUMNS} from alarms a where a.tenant = $1 and a.id = $2`, [tenant, id]);
  return rows[0];
}

/** status, severity, text and fragments may change; source, type and times are the alarm's own. */
export async function updateAlarm(db: Queryable, tenant: string, row: AlarmRow, input: Json): Promise<AlarmRow> {
  const status = input.status === undefined ? row.status : oneOf(input.status, STATUSES, "status");
  const severity = input.severity === undefined ? row.severity : oneOf(input.severity, SEVERITIES, "severity");
  const changes = fragmentsOf(input, FIXED);
  if (typeof input.text === "string") changes.text = input.text;
  const body = mergeFragments(row.body, changes);
  const { rows } = await db.query<AlarmRow>(
    `update alarms a set status = $3, severity = $4, body = $5, fragments = $6, last_updated = now() where a.tenant = $1 and a.id = $2 returning ${COLUMNS}`,
    [tenant, row.id, status, severity, body, fragmentNames(body)],
  );
  return rows[0] as AlarmRow;
}

export interface AlarmFilter {
  source?: string | undefined;
  status?: string[] | undefined;
  severity?: string[] | undefined;
  type?: string[] | undefined;
  resolved?: boolean | undefined;
  dateFrom?: Date | undefined;
  dateTo?: Date | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
  /** Alarms of sources this user owns (a caller without ROLE_ALARM_READ, OpenAPI). */
  ownedBy?: string | undefined;
}

function whereOf(tenant: string, filter: AlarmFilter): { where: string; params: SqlParams } {
  const params = new SqlParams([tenant]);
  const conditions = ["a.tenant = $1"];
  if (filter.source !== undefined) conditions.push(`a.source = ${params.value(filter.source)}`);
  if (filter.status !== undefined) conditions.push(`a.status = any(${params.value(filter.status)}::text[])`);
  if (filter.severity !== undefined) conditions.push(`a.severity = any(${params.value(filter.severity)}::text[])`);
  if (filter.type !== undefined) conditions.push(`a.type = any(${params.value(filter.type)}::text[])`);
  if (filter.resolved !== undefined) conditions.push(filter.resolved ? "a.status = 'CLEARED'" : "a.status <> 'CLEARED'");
  if (filter.ownedBy !== undefined) conditions.push(`a.source in (select m.id from managed_objects m where m.tenant = $1 and m.owner = ${params.value(filter.ownedBy)})`);
  conditions.push(...timeConditions(params, "a.time", filter.dateFrom, filter.dateTo), ...timeConditions(params, "a.creation_time", filter.createdFrom, filter.createdTo));
  return { where: allOf(conditions), params };
}

/** Newest first; `revert=true` gives the oldest first (c8y-docs). */
export async function queryAlarms(db: Queryable, tenant: string, filter: AlarmFilter, revert: boolean, window: PageWindow): Promise<{ rows: AlarmRow[]; total: number | undefined }> {
  const { where, params } = whereOf(tenant, filter);
  const direction = revert ? "asc" : "desc";
  const { rows } = await db.query<AlarmRow>(
    `select ${COLUMNS} from alarms a where ${where} order by a.time ${direction}, a.id ${direction} limit ${window.limit} offset ${window.offset}`,
    params.values,
  );
  return { rows, total: window.withTotal ? await countAlarms(db, tenant, filter) : undefined };
}

export async function countAlarms(db: Queryable, tenant: string, filter: AlarmFilter): Promise<number> {
  const { where, params } = whereOf(tenant, filter);
  const { rows } = await db.query<{ count: number }>(`select count(*)::int as count from alarms a where ${where}`, params.values);
  return rows[0]?.count ?? 0;
}

/** `PUT /alarm/alarms?...` with `{"status": ...}`: every alarm the filter finds gets that status. */
export async function setAlarmStatus(db: Queryable, tenant: string, filter: AlarmFilter, status: string): Promise<AlarmRow[]> {
  const { where, params } = whereOf(tenant, filter);
  const { rows } = await db.query<AlarmRow>(
    `update alarms a set status = ${params.value(oneOf(status, STATUSES, "status"))}, last_updated = now() where ${where} returning ${COLUMNS}`,
    params.values,
  );
  return rows;
}

export async function deleteAlarms(db: Queryable, tenant: string, filter: AlarmFilter): Promise<AlarmRow[]> {
  const { where, params } = whereOf(tenant, filter);
  const { rows } = await db.query<AlarmRow>(`delete from alarms a where ${where} returning ${COLUMNS}`, params.values);
  return rows;
}

export function alarmJson(row: AlarmRow, baseUrl: string): Json {
  return {
    id: row.id,
    self: `${baseUrl}/alarm/alarms/${row.id}`,
    type: row.type,
    time: row.time.toISOString(),
    creationTime: row.creation_time.toISOString(),
    lastUpdated: row.last_updated.toISOString(),
    firstOccurrenceTime: row.first_occurrence_time.toISOString(),
    count: row.count,
    status: row.status,
    severity: row.severity,
    source: row.source_name === null ? { id: row.source, self: managedObjectSelf(baseUrl, row.source) } : { id: row.source, name: row.source_name, self: managedObjectSelf(baseUrl, row.source) },
    // The sandbox keeps no audit log; the recorded alarms have this (empty) link.
    history: { auditRecords: [], self: `${baseUrl}/audit/auditRecords` },
    ...row.body,
  };
}
