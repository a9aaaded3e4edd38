import type { Queryable } from "./database.js";
import { fragmentNames, fragmentsOf, mergeFragments, referencedId, requireFields, validationError, type Json } from "./documents.js";
import type { PageWindow } from "./managed-objects.js";
import { allOf, SqlParams, timeConditions } from "./sql.js";

/**
 * Operations (c8y-docs "Device control", OpenAPI Operations): created PENDING for a device,
 * moved by the device (agent) through EXECUTING to SUCCESSFUL or FAILED with a
 * `failureReason`. The platform does not document refusing any transition; neither does
 * the sandbox.
 */

export const OPERATION_STATUSES = ["PENDING", "EXECUTING", "SUCCESSFUL", "FAILED"] as const;
const FIXED = new Set(["id", "self", "deviceId", "deviceName", "status", "creationTime", "failureReason", "bulkOperationId"]);

export interface OperationRow {
  id: string;
  device: string;
  /** The device's name, which the platform sends as `deviceName` (recorded operations, docs/platform-evidence.md §9). */
  device_name: string | null;
  status: string;
  creation_time: Date;
  body: Json;
}

const COLUMNS = "o.id::text as id, o.device::text as device, (select m.name from managed_objects m where m.id = o.device) as device_name, o.status, o.creation_time, o.body";

function status(value: unknown): string {
  if (typeof value !== "string" || !(OPERATION_STATUSES as readonly string[]).includes(value)) {
    throw validationError(`status must be one of ${OPERATION_STATUSES.join(", ")}; got ${JSON.stringify(value)}.`);
  }
  return value;
}

export function operationInput(body: Json): { device: string; status: string; body: Json } {
  requireFields(body, ["deviceId"]);
  return { device: referencedId(body.deviceId, "deviceId"), status: body.status === undefined ? "PENDING" : status(body.status), body: fragmentsOf(body, FIXED) };
}

export async function insertOperation(db: Queryable, tenant: string, input: ReturnType<typeof operationInput>): Promise<OperationRow> {
  const { rows } = await db.query<OperationRow>(
    `insert into operations as o (tenant, id, device, status, creation_time, fragments, body)
     values ($1, nextval('object_ids'), $2, $3, now(), $4, $5) returning ${COLUMNS}`,
    [tenant, input.device, input.status, fragmentNames(input.body), input.body],
  );
  return rows[0] as OperationRow;
}

export async function findOperation(db: Queryable, tenant: string, id: string): Promise<OperationRow | undefined> {
  const { rows } = await db.query<OperationRow>(`select ${COLUMNS} from operations o where o.tenant = $1 and o.id = $2`, [tenant, id]);
  return rows[0];
}

export async function updateOperation(db: Queryable, tenant: string, row: OperationRow, input: Json): Promise<OperationRow> {
  const next = input.status === undefined ? row.status : status(input.status);
  const changes = fragmentsOf(input, FIXED);
  if (input.failureReason !== undefined) changes.failureReason = input.failureReason;
  const body = mergeFragments(row.body, changes);
  const { rows } = await db.query<OperationRow>(
    `update operations o set status = $3, body = $4, fragments = $5 where o.tenant = $1 and o.id = $2 returning ${COLUMNS}`,
    [tenant, row.id, next, body, fragmentNames(body)],
  );
  return rows[0] as OperationRow;
}

export interface OperationFilter {
  deviceId?: string | undefined;
  /** The agent's own operations and those of its child devices. */
  agentId?: string | undefined;
  status?: string | undefined;
  fragmentType?: string | undefined;
  dateFrom?: Date | undefined;
  dateTo?: Date | undefined;
}

function whereOf(tenant: string, filter: OperationFilter): { where: string; params: SqlParams } {
  const params = new SqlParams([tenant]);
  const conditions = ["o.tenant = $1"];
  if (filter.deviceId !== undefined) conditions.push(`o.device = ${params.value(filter.deviceId)}`);
  if (filter.agentId !== undefined) {
    const agent = params.value(filter.agentId);
    conditions.push(`o.device = ${agent} or o.device in (select r.child from mo_references r where r.tenant = $1 and r.kind = 'childDevices' and r.parent = ${agent})`);
  }
  if (filter.status !== undefined) conditions.push(`o.status = ${params.value(filter.status)}`);
  if (filter.fragmentType !== undefined) conditions.push(`o.fragments @> array[${params.value(filter.fragmentType)}]::text[]`);
  conditions.push(...timeConditions(params, "o.creation_time", filter.dateFrom, filter.dateTo));
  return { where: allOf(conditions), params };
}

/** Oldest first, so an agent works through its queue in order; `revert=true` gives the newest first. */
export async function queryOperations(db: Queryable, tenant: string, filter: OperationFilter, revert: boolean, window: PageWindow): Promise<{ rows: OperationRow[]; total: number | undefined }> {
  const { where, params } = whereOf(tenant, filter);
  const direction = revert ? "desc" : "asc";
  const { rows } = await db.query<OperationRow>(
    `select ${COLUMNS} from operations o where ${where} order by o.creation_time ${direction}, o.id ${direction} limit ${window.limit} offset ${window.offset}`,
    params.values,
  );
  let total: number | undefined;
  if (window.withTotal) {
    const { rows: counted } = await db.query<{ count: number }>(`select count(*)::int as count from operations o where ${where}`, params.values);
    total = counted[0]?.count ?? 0;
  }
  return { rows, total };
}

export async function deleteOperations(db: Queryable, tenant: string, filter: OperationFilter): Promise<OperationRow[]> {
  const { where, params } = whereOf(tenant, filter);
  const { rows } = await db.query<OperationRow>(`delete from operations o where ${where} returning ${COLUMNS}`, params.values);
  return rows;
}

export function operationJson(row: OperationRow, baseUrl: string): Json {
  return {
    id: row.id,
    self: `${baseUrl}/devicecontrol/operations/${row.id}`,
    deviceId: row.device,
    ...(row.device_name === null ? {} : { deviceName: row.device_name }),
    creationTime: row.creation_time.toISOString(),
    status: row.status,
    ...row.body,
  };
}
