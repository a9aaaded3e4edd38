import type { Queryable } from "./database.js";
import { fragmentNames, fragmentsOf, mergeFragments, readTime, referencedId, requireFields, validationError, type Json } from "./documents.js";
import { managedObjectSelf, type PageWindow } from "./managed-objects.js";
import { allOf, SqlParams, timeConditions } from "./sql.js";

/**
 * Events (c8y-docs "Events", OpenAPI Events and Attachments): `source`, `type`, `text` and
 * `time` are mandatory; an update changes `text` and fragments only, as on the platform.
 */

const FIXED = new Set(["id", "self", "time", "type", "source", "creationTime", "lastUpdated"]);

export interface Attachment {
  name: string;
  type: string;
  length: number;
}

export interface EventRow {
  id: string;
  source: string;
  type: string;
  time: Date;
  creation_time: Date;
  last_updated: Date;
  body: Json;
  attachment: Attachment | null;
}

const COLUMNS = "id::text as id, source::text as source, type, time, creation_time, last_updated, body, attachment";

export function eventInput(body: Json): { source: string; type: string; time: Date; body: Json } {
  requireFields(body, ["source", "type", "text", "time"]);
  if (typeof body.type !== "string" || typeof body.text !== "string") throw validationError("type and text must be strings.");
  return { source: referencedId(body.source, "source"), type: body.type, time: readTime(body.time, "time"), body: fragmentsOf(body, FIXED) };
}

export async function insertEvent(db: Queryable, tenant: string, input: ReturnType<typeof eventInput>): Promise<EventRow> {
  const { rows } = await db.query<EventRow>(
    `insert into events (tenant, id, source, type, time, creation_time, last_updated, fragments, body)
     values ($1, nextval('object_ids'), $2, $3, $4, now(), now(), $5, $6) returning ${COLUMNS}`,
    [tenant, input.source, input.type, input.time.toISOString(), fragmentNames(input.body), input.body],
  );
  return rows[0] as EventRow;
}

export async function findEvent(db: Queryable, tenant: string, id: string): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>(`select ${COLUMNS} from events where tenant = $1 and id = $2`, [tenant, id]);
  return rows[0];
}

/** `text` and fragments change (null removes a fragment); source, type and time stay. */
export async function updateEvent(db: Queryable, tenant: string, row: EventRow, input: Json): Promise<EventRow> {
  const body = mergeFragments(row.body, fragmentsOf(input, FIXED));
  const { rows } = await db.query<EventRow>(
    `update events set body = $3, fragments = $4, last_updated = now() where tenant = $1 and id = $2 returning ${COLUMNS}`,
    [tenant, row.id, body, fragmentNames(body)],
  );
  return rows[0] as EventRow;
}

export async function setAttachment(db: Queryable, tenant: string, id: string, attachment: Attachment | null): Promise<void> {
  await db.query(`update events set attachment = $3, last_updated = now() where tenant = $1 and id = $2`, [tenant, id, attachment === null ? null : JSON.stringify(attachment)]);
}

export interface EventFilter {
  source?: string | undefined;
  type?: string | undefined;
  fragmentType?: string | undefined;
  dateFrom?: Date | undefined;
  dateTo?: Date | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
  id?: string | undefined;
}

function whereOf(tenant: string, filter: EventFilter): { where: string; params: SqlParams } {
  const params = new SqlParams([tenant]);
  const conditions = ["tenant = $1"];
  if (filter.id !== undefined) conditions.push(`id = ${params.value(filter.id)}`);
  if (filter.source !== undefined) conditions.push(`source = ${params.value(filter.source)}`);
  if (filter.type !== undefined) conditions.push(`type = ${params.value(filter.type)}`);
  if (filter.fragmentType !== undefined) conditions.push(`fragments @> array[${params.value(filter.fragmentType)}]::text[]`);
  conditions.push(...timeConditions(params, "time", filter.dateFrom, filter.dateTo), ...timeConditions(params, "creation_time", filter.createdFrom, filter.createdTo));
  return { where: allOf(conditions), params };
}

/** Newest first; `revert=true` gives the oldest first (c8y-docs). */
export async function queryEvents(db: Queryable, tenant: string, filter: EventFilter, revert: boolean, window: PageWindow): Promise<{ rows: EventRow[]; total: number | undefined }> {
  const { where, params } = whereOf(tenant, filter);
  const direction = revert ? "asc" : "desc";
  const { rows } = await db.query<EventRow>(
    `select ${COLUMNS} from events where ${where} order by time ${direction}, id ${direction} limit ${window.limit} offset ${window.offset}`,
    params.values,
  );
  let total: number | undefined;
  if (window.withTotal) {
    const { rows: counted } = await db.query<{ count: number }>(`select count(*)::int as count from events where ${where}`, params.values);
    total = counted[0]?.count ?? 0;
  }
  return { rows, total };
}

export async function deleteEvents(db: Queryable, tenant: string, filter: EventFilter): Promise<EventRow[]> {
  const { where, params } = whereOf(tenant, filter);
  const { rows } = await db.query<EventRow>(`delete from events where ${where} returning ${COLUMNS}`, params.values);
  return rows;
}

export function eventJson(row: EventRow, baseUrl: string): Json {
  const self = `${baseUrl}/event/events/${row.id}`;
  const document: Json = {
    id: row.id,
    self,
    time: row.time.toISOString(),
    creationTime: row.creation_time.toISOString(),
    lastUpdated: row.last_updated.toISOString(),
    type: row.type,
    source: { id: row.source, self: managedObjectSelf(baseUrl, row.source) },
    ...row.body,
  };
  // The platform marks an event with an attachment by this fragment (c8y-docs "Attachments").
  if (row.attachment) document.c8y_IsBinary = { name: row.attachment.name, type: row.attachment.type, length: row.attachment.length };
  return document;
}

export function attachmentJson(row: EventRow, attachment: Attachment, baseUrl: string): Json {
  return { self: `${baseUrl}/event/events/${row.id}/binaries`, source: row.id, name: attachment.name, type: attachment.type, length: attachment.length };
}
