import type { Queryable } from "./database.js";
import { fragmentNames, fragmentsOf, mergeFragments, type Json } from "./documents.js";
import { compileFilter, compileOrderBy, type InventoryQuery } from "./inventory-query.js";
import { allOf, SqlParams } from "./sql.js";

/**
 * Managed objects and their references (c8y-docs "Inventory"; OpenAPI ManagedObjects and
 * ChildOperations): devices (`c8y_IsDevice`), groups (`c8y_IsDeviceGroup`) and any other
 * object, linked as child devices, child assets and child additions.
 */

export const REFERENCE_KINDS = ["childDevices", "childAssets", "childAdditions"] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];
const PARENTS: Record<ReferenceKind, string> = { childDevices: "deviceParents", childAssets: "assetParents", childAdditions: "additionParents" };

/** Fields the platform owns or derives; in a body they are ignored (references are read separately). */
const FIXED = new Set(["id", "self", "owner", "creationTime", "lastUpdated", "type", "name", ...REFERENCE_KINDS, ...Object.values(PARENTS)]);

export interface ManagedObjectRow {
  id: string;
  type: string | null;
  name: string | null;
  owner: string;
  creation_time: Date;
  last_updated: Date;
  body: Json;
}

const COLUMNS = "m.id::text as id, m.type, m.name, m.owner, m.creation_time, m.last_updated, m.body";

/** `type` and `name` as the client sent them: strings, or absent. */
function textField(input: Json, field: "type" | "name"): string | null {
  const value = input[field];
  return typeof value === "string" ? value : value === undefined || value === null ? null : String(value);
}

export async function createManagedObject(db: Queryable, tenant: string, owner: string, input: Json): Promise<ManagedObjectRow> {
  const body = withoutNulls(fragmentsOf(input, FIXED));
  const chosenOwner = typeof input.owner === "string" && input.owner !== "" ? input.owner : owner;
  const result = await db.query<ManagedObjectRow>(
    `insert into managed_objects (tenant, id, type, name, owner, creation_time, last_updated, fragments, body)
     values ($1, nextval('object_ids'), $2, $3, $4, now(), now(), $5, $6)
     returning id::text as id, type, name, owner, creation_time, last_updated, body`,
    [tenant, textField(input, "type"), textField(input, "name"), chosenOwner, fragmentNames(body), body],
  );
  return result.rows[0] as ManagedObjectRow;
}

export async function findManagedObject(db: Queryable, tenant: string, id: string): Promise<ManagedObjectRow | undefined> {
  const { rows } = await db.query<ManagedObjectRow>(`select ${COLUMNS} from managed_objects m where m.tenant = $1 and m.id = $2`, [tenant, id]);
  return rows[0];
}

/** Which of `ids` exist in `tenant`, with their owners (a collection create checks its sources at once). */
export async function ownersOf(db: Queryable, tenant: string, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; owner: string }>(`select id::text as id, owner from managed_objects where tenant = $1 and id = any($2::bigint[])`, [tenant, [...new Set(ids)]]);
  return new Map(rows.map((row) => [row.id, row.owner]));
}

/**
 * PUT: each top-level fragment in the body replaces the stored one, `null` removes it, and
 * fragments not mentioned stay (c8y-docs "Update a specific managed object").
 */
export async function updateManagedObject(db: Queryable, tenant: string, row: ManagedObjectRow, input: Json): Promise<ManagedObjectRow> {
  const body = mergeFragments(row.body, fragmentsOf(input, FIXED));
  const type = "type" in input ? textField(input, "type") : row.type;
  const name = "name" in input ? textField(input, "name") : row.name;
  const owner = typeof input.owner === "string" && input.owner !== "" ? input.owner : row.owner;
  const result = await db.query<ManagedObjectRow>(
    `update managed_objects set type = $3, name = $4, owner = $5, fragments = $6, body = $7, last_updated = now()
     where tenant = $1 and id = $2
     returning id::text as id, type, name, owner, creation_time, last_updated, body`,
    [tenant, row.id, type, name, owner, fragmentNames(body), body],
  );
  return result.rows[0] as ManagedObjectRow;
}

/**
 * Deletes the object; with `cascade` also every child device and child asset below it,
 * however deep (c8y-docs: "all the hierarchy will be deleted"). External ids and references
 * go with their objects (foreign keys). Measurements, events and alarms stay, as on the
 * platform, where they outlive their source until the retention rules remove them.
 * @returns the deleted objects, the addressed one first
 */
export async function deleteManagedObject(db: Queryable, tenant: string, id: string, cascade: boolean): Promise<ManagedObjectRow[]> {
  const targets = cascade
    ? `with recursive tree(id) as (
         select $2::bigint
         union
         select r.child from mo_references r join tree t on r.parent = t.id
         where r.tenant = $1 and r.kind in ('childDevices', 'childAssets')
       ) select id from tree`
    : `select $2::bigint`;
  const result = await db.query<ManagedObjectRow>(
    `delete from managed_objects m where m.tenant = $1 and m.id in (${targets})
     returning m.id::text as id, m.type, m.name, m.owner, m.creation_time, m.last_updated, m.body`,
    [tenant, id],
  );
  return result.rows.sort((a, b) => (a.id === id ? -1 : b.id === id ? 1 : 0));
}

export interface ManagedObjectFilter {
  type?: string | undefined;
  fragmentType?: string | undefined;
  owner?: string | undefined;
  text?: string | undefined;
  ids?: string[] | undefined;
  /** Parents of this child asset / device / addition. */
  childOf?: { kind: ReferenceKind; id: string } | undefined;
  query?: InventoryQuery | undefined;
  /** Only what this user owns (a caller without ROLE_INVENTORY_READ). */
  ownedBy?: string | undefined;
}

export interface PageWindow {
  limit: number;
  offset: number;
  withTotal: boolean;
}

/** One page of managed objects, filtered, ordered and cut in SQL. */
export async function queryManagedObjects(
  db: Queryable,
  tenant: string,
  filter: ManagedObjectFilter,
  page: PageWindow,
): Promise<{ rows: ManagedObjectRow[]; total: number | undefined }> {
  const params = new SqlParams([tenant]);
  const conditions = ["m.tenant = $1"];
  if (filter.type !== undefined) conditions.push(`m.type = ${params.value(filter.type)}`);
  if (filter.fragmentType !== undefined) conditions.push(`m.fragments @> array[${params.value(filter.fragmentType)}]::text[]`);
  if (filter.owner !== undefined) conditions.push(`m.owner = ${params.value(filter.owner)}`);
  if (filter.ownedBy !== undefined) conditions.push(`m.owner = ${params.value(filter.ownedBy)}`);
  if (filter.ids !== undefined) conditions.push(`m.id = any(${params.value(filter.ids)}::bigint[])`);
  if (filter.text !== undefined) {
    // c8y-docs: "managed objects where any property value is equal to the given one"; strings only.
    const text = params.value(filter.text);
    conditions.push(`m.name = ${text} or m.type = ${text} or m.owner = ${text} or jsonb_path_exists(m.body, 'strict $.** ? (@ == $t)', jsonb_build_object('t', ${text}::text))`);
  }
  if (filter.childOf !== undefined) {
    conditions.push(`m.id in (select r.parent from mo_references r where r.tenant = $1 and r.kind = ${params.value(filter.childOf.kind)} and r.child = ${params.value(filter.childOf.id)})`);
  }
  if (filter.query?.filter) conditions.push(compileFilter(filter.query.filter, params, "$1"));
  const where = allOf(conditions);
  const order = compileOrderBy(filter.query?.orderBy ?? [], params);
  const { rows } = await db.query<ManagedObjectRow>(
    `select ${COLUMNS} from managed_objects m where ${where} order by ${order} limit ${page.limit} offset ${page.offset}`,
    params.values,
  );
  let total: number | undefined;
  if (page.withTotal) {
    const {
      rows: [count],
    } = await db.query<{ count: number }>(`select count(*)::int as count from managed_objects m where ${where}`, params.values);
    total = count?.count ?? 0;
  }
  return { rows, total };
}

export interface Reference {
  parent: string;
  kind: ReferenceKind;
  child: string;
  childName: string | null;
  parentName: string | null;
}

/** Every reference from or to `ids`, for the childX and XParents fragments of their documents. */
export async function referencesOf(db: Queryable, tenant: string, ids: readonly string[]): Promise<Reference[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<Reference>(
    `select r.parent::text as parent, r.kind, r.child::text as child, c.name as "childName", p.name as "parentName"
     from mo_references r join managed_objects c on c.id = r.child join managed_objects p on p.id = r.parent
     where r.tenant = $1 and (r.parent = any($2::bigint[]) or r.child = any($2::bigint[]))
     order by r.position`,
    [tenant, ids],
  );
  return rows;
}

/**
 * Links `child` below `parent`. Linking twice is harmless; a link that would make an object
 * its own ancestor is refused, since cascading deletes and hierarchies need a tree.
 * @returns false when the link would close a cycle
 */
export async function addReference(db: Queryable, tenant: string, parent: string, kind: ReferenceKind, child: string): Promise<boolean> {
  if (parent === child) return false;
  const cycle = await db.query<{ found: boolean }>(
    `with recursive up(id) as (
       select $2::bigint
       union
       select r.parent from mo_references r join up u on r.child = u.id where r.tenant = $1
     ) select exists(select 1 from up where id = $3::bigint) as found`,
    [tenant, parent, child],
  );
  if (cycle.rows[0]?.found) return false;
  await db.query(`insert into mo_references (tenant, parent, kind, child) values ($1, $2, $3, $4) on conflict do nothing`, [tenant, parent, kind, child]);
  return true;
}

/** @returns whether the reference existed */
export async function removeReference(db: Queryable, tenant: string, parent: string, kind: ReferenceKind, child: string): Promise<boolean> {
  const result = await db.query(`delete from mo_references where tenant = $1 and parent = $2 and kind = $3 and child = $4`, [tenant, parent, kind, child]);
  return (result.affectedRows ?? 0) > 0;
}

/** One page of the children of `parent` of one kind, in the order they were linked. */
export async function childrenOf(
  db: Queryable,
  tenant: string,
  parent: string,
  kind: ReferenceKind,
  page: PageWindow,
): Promise<{ rows: ManagedObjectRow[]; total: number | undefined }> {
  const { rows } = await db.query<ManagedObjectRow>(
    `select ${COLUMNS} from mo_references r join managed_objects m on m.id = r.child
     where r.tenant = $1 and r.parent = $2 and r.kind = $3 order by r.position limit ${page.limit} offset ${page.offset}`,
    [tenant, parent, kind],
  );
  let total: number | undefined;
  if (page.withTotal) {
    const {
      rows: [count],
    } = await db.query<{ count: number }>(`select count(*)::int as count from mo_references where tenant = $1 and parent = $2 and kind = $3`, [tenant, parent, kind]);
    total = count?.count ?? 0;
  }
  return { rows, total };
}

/** Child references in a create or update body: `{"childDevices": {"references": [{"managedObject": {"id": "1"}}]}}`. */
export function referencesInBody(input: Json): { kind: ReferenceKind; child: string }[] {
  const found: { kind: ReferenceKind; child: string }[] = [];
  for (const kind of REFERENCE_KINDS) {
    const references = (input[kind] as { references?: unknown } | undefined)?.references;
    if (!Array.isArray(references)) continue;
    for (const reference of references) {
      const id = (reference as { managedObject?: { id?: unknown } } | null)?.managedObject?.id;
      if (typeof id === "string" || typeof id === "number") found.push({ kind, child: String(id) });
    }
  }
  return found;
}

export function managedObjectSelf(baseUrl: string, id: string): string {
  return `${baseUrl}/inventory/managedObjects/${id}`;
}

/**
 * The document the platform answers: the fixed fields, the fragments, the three child
 * reference lists (unless `withChildren=false`) and the three parent lists.
 */
export function managedObjectJson(row: ManagedObjectRow, references: readonly Reference[], baseUrl: string, withChildren = true): Json {
  const self = managedObjectSelf(baseUrl, row.id);
  const document: Json = { id: row.id, self };
  if (row.type !== null) document.type = row.type;
  if (row.name !== null) document.name = row.name;
  document.owner = row.owner;
  document.creationTime = row.creation_time.toISOString();
  document.lastUpdated = row.last_updated.toISOString();
  Object.assign(document, row.body);
  const link = (id: string, name: string | null) => {
    const target: Json = { id, self: managedObjectSelf(baseUrl, id) };
    if (name !== null) target.name = name;
    return target;
  };
  for (const kind of REFERENCE_KINDS) {
    if (withChildren) {
      document[kind] = {
        self: `${self}/${kind}`,
        references: references
          .filter((r) => r.kind === kind && r.parent === row.id)
          .map((r) => ({ self: `${self}/${kind}/${r.child}`, managedObject: link(r.child, r.childName) })),
      };
    }
    document[PARENTS[kind]] = {
      self: `${self}/${PARENTS[kind]}`,
      references: references
        .filter((r) => r.kind === kind && r.child === row.id)
        .map((r) => ({ self: `${managedObjectSelf(baseUrl, r.parent)}/${kind}/${row.id}`, managedObject: link(r.parent, r.parentName) })),
    };
  }
  return document;
}

/** The reference document of one link (`POST .../childDevices` answers it). */
export function referenceJson(baseUrl: string, parent: string, kind: ReferenceKind, child: ManagedObjectRow, references: readonly Reference[]): Json {
  return { self: `${managedObjectSelf(baseUrl, parent)}/${kind}/${child.id}`, managedObject: managedObjectJson(child, references, baseUrl) };
}

function withoutNulls(body: Json): Json {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}
