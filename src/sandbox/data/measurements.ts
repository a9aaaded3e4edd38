import type { Queryable } from "./database.js";
import { fragmentsOf, readTime, referencedId, requireFields, validationError, type Json } from "./documents.js";
import { managedObjectSelf, type PageWindow } from "./managed-objects.js";
import { allOf, SqlParams } from "./sql.js";

/**
 * Measurements (c8y-docs "Measurements", OpenAPI Measurements): `source`, `time` and `type`
 * are mandatory; every other top-level object is a fragment whose objects are series with
 * a mandatory numeric `value` (changelog 10.20.566.0, MTM-60356: "measurements without value
 * can no longer be created").
 */

const FIXED = new Set(["id", "self", "time", "type", "source"]);

export interface MeasurementInput {
  source: string;
  type: string;
  time: Date;
  fragments: Json;
  /** `fragment` and `fragment.series` of every series, for valueFragmentType/-Series. */
  names: string[];
}

export interface MeasurementRow {
  id: string;
  source: string;
  type: string;
  time: Date;
  body: Json;
}

export function measurementInput(body: Json): MeasurementInput {
  requireFields(body, ["source", "time", "type"]);
  if (typeof body.type !== "string") throw validationError("type must be a string.");
  const fragments = fragmentsOf(body, FIXED);
  const names: string[] = [];
  for (const [fragment, value] of Object.entries(fragments)) {
    checkName(fragment);
    names.push(fragment);
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
    for (const [series, measured] of Object.entries(value as Json)) {
      if (typeof measured !== "object" || measured === null || Array.isArray(measured)) continue;
      checkName(series);
      if (typeof (measured as Json).value !== "number") throw validationError(`The value is mandatory for a fragment: ${fragment}.${series} has no numeric value.`);
      names.push(`${fragment}.${series}`);
    }
  }
  return { source: referencedId(body.source, "source"), type: body.type, time: readTime(body.time, "time"), fragments, names };
}

/**
 * `count` consecutive ids in one statement (a collection of 1,000 would otherwise fetch 1,000
 * rows of nextval); being one statement, no other insert takes ids from the middle.
 */
async function reserveIds(db: Queryable, count: number): Promise<bigint> {
  const { rows } = await db.query<{ last: string }>(`select setval('object_ids', nextval('object_ids') + $1 - 1)::text as last`, [count]);
  return BigInt(rows[0]?.last ?? "0") - BigInt(count) + 1n;
}

/** OpenAPI Measurements: fragment and series names must not contain whitespace or . , * [ ] ( ) @ $ */
function checkName(name: string): void {
  if (/[\s.,*[\]()@$]/.test(name)) throw validationError(`'${name}' cannot be a fragment or series name: whitespace and . , * [ ] ( ) @ $ are not allowed.`);
}

/** Inserts all of `inputs` in one statement (a collection of 1,000 is one round trip). */
export async function insertMeasurements(db: Queryable, tenant: string, inputs: readonly MeasurementInput[]): Promise<MeasurementRow[]> {
  const first = await reserveIds(db, inputs.length);
  const records = inputs.map((input, i) => ({
    id: String(first + BigInt(i)),
    source: input.source,
    type: input.type,
    time: input.time.toISOString(),
    fragments: input.names,
    body: input.fragments,
  }));
  await db.query(
    `insert into measurements (tenant, id, source, type, time, creation_time, fragments, body)
     select $1, x.id, x.source, x.type, x.time, now(), x.fragments, x.body
     from jsonb_to_recordset($2::jsonb) as x(id bigint, source bigint, type text, time timestamptz, fragments text[], body jsonb)`,
    [tenant, JSON.stringify(records)],
  );
  return records.map((record, i) => ({ id: record.id, source: record.source, type: record.type, time: inputs[i]?.time ?? new Date(), body: record.body }));
}

export interface MeasurementFilter {
  source?: string | undefined;
  type?: string | undefined;
  valueFragmentType?: string | undefined;
  valueFragmentSeries?: string | undefined;
  dateFrom?: Date | undefined;
  dateTo?: Date | undefined;
}

function whereOf(tenant: string, filter: MeasurementFilter): { where: string; params: SqlParams } {
  const params = new SqlParams([tenant]);
  const conditions = ["tenant = $1"];
  if (filter.source !== undefined) conditions.push(`source = ${params.value(filter.source)}`);
  if (filter.type !== undefined) conditions.push(`type = ${params.value(filter.type)}`);
  if (filter.valueFragmentType !== undefined && filter.valueFragmentSeries !== undefined) {
    conditions.push(`fragments @> array[${params.value(`${filter.valueFragmentType}.${filter.valueFragmentSeries}`)}]::text[]`);
  } else if (filter.valueFragmentType !== undefined) {
    conditions.push(`fragments @> array[${params.value(filter.valueFragmentType)}]::text[]`);
  } else if (filter.valueFragmentSeries !== undefined) {
    conditions.push(`exists (select 1 from unnest(fragments) f where f like ${params.value(`%.${filter.valueFragmentSeries.replace(/[\\%_]/g, "\\$&")}`)})`);
  }
  if (filter.dateFrom !== undefined) conditions.push(`time >= ${params.value(filter.dateFrom.toISOString())}`);
  if (filter.dateTo !== undefined) conditions.push(`time < ${params.value(filter.dateTo.toISOString())}`);
  return { where: allOf(conditions), params };
}

/** Oldest first, or newest first with `revert=true` (c8y-docs). */
export async function queryMeasurements(
  db: Queryable,
  tenant: string,
  filter: MeasurementFilter,
  revert: boolean,
  window: PageWindow,
): Promise<{ rows: MeasurementRow[]; total: number | undefined }> {
  const { where, params } = whereOf(tenant, filter);
  const direction = revert ? "desc" : "asc";
  const { rows } = await db.query<MeasurementRow>(
    `select id::text as id, source::text as source, type, time, body from measurements where ${where}
     order by time ${direction}, id ${direction} limit ${window.limit} offset ${window.offset}`,
    params.values,
  );
  let total: number | undefined;
  if (window.withTotal) {
    const { rows: counted } = await db.query<{ count: number }>(`select count(*)::int as count from measurements where ${where}`, params.values);
    total = counted[0]?.count ?? 0;
  }
  return { rows, total };
}

export async function findMeasurement(db: Queryable, tenant: string, id: string): Promise<MeasurementRow | undefined> {
  const { rows } = await db.query<MeasurementRow>(`select id::text as id, source::text as source, type, time, body from measurements where tenant = $1 and id = $2`, [tenant, id]);
  return rows[0];
}

/** @returns the deleted measurements' ids and sources, for the change feed */
export async function deleteMeasurements(db: Queryable, tenant: string, filter: MeasurementFilter & { id?: string }): Promise<{ id: string; source: string; type: string }[]> {
  const { where, params } = whereOf(tenant, filter);
  const byId = filter.id === undefined ? "" : ` and id = ${params.value(filter.id)}`;
  const { rows } = await db.query<{ id: string; source: string; type: string }>(
    `delete from measurements where ${where}${byId} returning id::text as id, source::text as source, type`,
    params.values,
  );
  return rows;
}

/** `fragment.series` names measured for `source` (the inventory's supportedSeries). */
export async function supportedSeries(db: Queryable, tenant: string, source: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `select distinct f as name from measurements, unnest(fragments) f where tenant = $1 and source = $2 and f like '%.%' order by f`,
    [tenant, source],
  );
  return rows.map((row) => row.name);
}

export function measurementJson(row: MeasurementRow, baseUrl: string): Json {
  return {
    id: row.id,
    self: `${baseUrl}/measurement/measurements/${row.id}`,
    time: row.time.toISOString(),
    type: row.type,
    source: { id: row.source, self: managedObjectSelf(baseUrl, row.source) },
    ...row.body,
  };
}
