import type { Queryable } from "./database.js";
import { managedObjectSelf } from "./managed-objects.js";
import type { Json } from "./documents.js";

/** External ids (c8y-docs "Identity"): a (type, value) pair names one managed object of a tenant. */

export interface ExternalIdRow {
  type: string;
  value: string;
  mo: string;
  owner: string;
}

const SELECT = `select e.type, e.value, e.mo::text as mo, m.owner from external_ids e join managed_objects m on m.id = e.mo`;

/** @returns false when the pair already names an object of the tenant */
export async function addExternalId(db: Queryable, tenant: string, mo: string, type: string, value: string): Promise<boolean> {
  const result = await db.query(`insert into external_ids (tenant, type, value, mo) values ($1, $2, $3, $4) on conflict do nothing`, [tenant, type, value, mo]);
  return (result.affectedRows ?? 0) > 0;
}

export async function findExternalId(db: Queryable, tenant: string, type: string, value: string): Promise<ExternalIdRow | undefined> {
  const { rows } = await db.query<ExternalIdRow>(`${SELECT} where e.tenant = $1 and e.type = $2 and e.value = $3`, [tenant, type, value]);
  return rows[0];
}

export async function externalIdsOf(db: Queryable, tenant: string, mo: string): Promise<ExternalIdRow[]> {
  const { rows } = await db.query<ExternalIdRow>(`${SELECT} where e.tenant = $1 and e.mo = $2 order by e.type, e.value`, [tenant, mo]);
  return rows;
}

export async function removeExternalId(db: Queryable, tenant: string, type: string, value: string): Promise<void> {
  await db.query(`delete from external_ids where tenant = $1 and type = $2 and value = $3`, [tenant, type, value]);
}

export function externalIdJson(row: ExternalIdRow, baseUrl: string): Json {
  return {
    externalId: row.value,
    type: row.type,
    self: `${baseUrl}/identity/externalIds/${encodeURIComponent(row.type)}/${encodeURIComponent(row.value)}`,
    managedObject: { id: row.mo, self: managedObjectSelf(baseUrl, row.mo) },
  };
}
