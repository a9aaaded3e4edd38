import type { Queryable } from "./database.js";
import type { ChangeApi } from "./change-feed.js";
import { validationError, type Json } from "./documents.js";
import { managedObjectSelf, type PageWindow } from "./managed-objects.js";

/**
 * Notifications 2.0 subscriptions (c8y-docs "Notifications 2.0", OpenAPI Subscriptions and
 * NotificationSubscriptionSubscriptionFilter): a named subscription in the `mo` context (one
 * managed object, `source` required) or the `tenant` context, filtered by APIs and type.
 */

/** `apis` per context: "Alarms, Alarms with children, Device control, Events, Events with children, Inventory and Measurements for the mo context and Alarms and Inventory for the tenant context" (OpenAPI). */
const APIS_BY_CONTEXT: Record<string, readonly string[]> = {
  mo: ["alarms", "alarmsWithChildren", "operations", "events", "eventsWithChildren", "managedobjects", "measurements"],
  tenant: ["alarms", "managedobjects"],
};

export interface SubscriptionRow {
  id: string;
  name: string;
  context: "mo" | "tenant";
  source: string | null;
  apis: string[];
  type_filter: string | null;
  fragments_to_copy: string[] | null;
  non_persistent: boolean;
  creation_time: Date;
}

const COLUMNS = "id::text as id, name, context, source::text as source, apis, type_filter, fragments_to_copy, non_persistent, creation_time";

export interface SubscriptionInput {
  name: string;
  context: "mo" | "tenant";
  source: string | null;
  apis: string[];
  typeFilter: string | null;
  fragmentsToCopy: string[] | null;
  nonPersistent: boolean;
}

export function subscriptionInput(body: Json): SubscriptionInput {
  const { context, subscription } = body;
  if (context !== "mo" && context !== "tenant") throw validationError(`context must be "mo" or "tenant"; got ${JSON.stringify(context)}.`);
  if (typeof subscription !== "string" || !/^[A-Za-z0-9_]+$/.test(subscription)) throw validationError("subscription must be a name of letters, digits and underscores.");
  const sourceId = (body.source as { id?: unknown } | undefined)?.id;
  const source = typeof sourceId === "string" || typeof sourceId === "number" ? String(sourceId) : null;
  if (context === "mo" && (source === null || !/^\d+$/.test(source))) throw validationError('A subscription in the mo context needs the managed object: "source": {"id": "<id>"}.');
  const filter = (body.subscriptionFilter ?? {}) as { apis?: unknown; typeFilter?: unknown };
  const allowed = APIS_BY_CONTEXT[context] ?? [];
  let apis = ["*"];
  if (filter.apis !== undefined) {
    if (!Array.isArray(filter.apis) || filter.apis.length === 0 || !filter.apis.every((a) => typeof a === "string")) throw validationError("subscriptionFilter.apis must be a list of API names.");
    apis = filter.apis as string[];
    if (apis.includes("*") && apis.length > 1) throw validationError("The wildcard * cannot be used together with other APIs.");
    const wrong = apis.filter((a) => a !== "*" && !allowed.includes(a));
    if (wrong.length > 0) throw validationError(`${wrong.join(", ")} cannot be subscribed in the ${context} context; use ${allowed.join(", ")} or *.`);
  }
  const fragments = body.fragmentsToCopy;
  if (fragments !== undefined && !(Array.isArray(fragments) && fragments.every((f) => typeof f === "string"))) throw validationError("fragmentsToCopy must be a list of fragment names.");
  return {
    name: subscription,
    context,
    source: context === "mo" ? source : null,
    apis,
    typeFilter: typeof filter.typeFilter === "string" && filter.typeFilter !== "" ? filter.typeFilter : null,
    fragmentsToCopy: (fragments as string[] | undefined) ?? null,
    nonPersistent: body.nonPersistent === true,
  };
}

/** @returns undefined when the name is taken in that context and source (409) */
export async function insertSubscription(db: Queryable, tenant: string, input: SubscriptionInput): Promise<SubscriptionRow | undefined> {
  const { rows: taken } = await db.query(
    `select 1 from n2_subscriptions where tenant = $1 and name = $2 and context = $3 and source is not distinct from $4`,
    [tenant, input.name, input.context, input.source],
  );
  if (taken.length > 0) return undefined;
  const { rows } = await db.query<SubscriptionRow>(
    `insert into n2_subscriptions (tenant, id, name, context, source, apis, type_filter, fragments_to_copy, non_persistent, creation_time)
     values ($1, nextval('object_ids'), $2, $3, $4, $5, $6, $7, $8, now()) returning ${COLUMNS}`,
    [tenant, input.name, input.context, input.source, input.apis, input.typeFilter, input.fragmentsToCopy, input.nonPersistent],
  );
  return rows[0];
}

export interface SubscriptionFilter {
  context?: string | undefined;
  source?: string | undefined;
  subscription?: string | undefined;
}

export async function querySubscriptions(db: Queryable, tenant: string, filter: SubscriptionFilter, window?: PageWindow): Promise<SubscriptionRow[]> {
  const page = window ? ` limit ${window.limit} offset ${window.offset}` : "";
  const { rows } = await db.query<SubscriptionRow>(
    `select ${COLUMNS} from n2_subscriptions where tenant = $1 and ($2::text is null or context = $2) and ($3::bigint is null or source = $3) and ($4::text is null or name = $4) order by id${page}`,
    [tenant, filter.context ?? null, filter.source ?? null, filter.subscription ?? null],
  );
  return rows;
}

export async function findSubscription(db: Queryable, tenant: string, id: string): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.query<SubscriptionRow>(`select ${COLUMNS} from n2_subscriptions where tenant = $1 and id = $2`, [tenant, id]);
  return rows[0];
}

export async function deleteSubscriptions(db: Queryable, tenant: string, ids: readonly string[]): Promise<void> {
  await db.query(`delete from n2_subscriptions where tenant = $1 and id = any($2::bigint[])`, [tenant, ids]);
}

export function subscriptionJson(row: SubscriptionRow, baseUrl: string): Json {
  const document: Json = {
    id: row.id,
    self: `${baseUrl}/notification2/subscriptions/${row.id}`,
    context: row.context,
    subscription: row.name,
    subscriptionFilter: row.type_filter === null ? { apis: row.apis } : { apis: row.apis, typeFilter: row.type_filter },
    nonPersistent: row.non_persistent,
  };
  if (row.source !== null) document.source = { id: row.source, self: managedObjectSelf(baseUrl, row.source) };
  if (row.fragments_to_copy !== null) document.fragmentsToCopy = row.fragments_to_copy;
  return document;
}

/** Whether `row` wants a change of `api` and `type` about `source`. */
export function subscriptionMatches(row: SubscriptionRow, api: ChangeApi, source: string, type: string | undefined): boolean {
  const apis = row.apis.map((a) => a.replace(/WithChildren$/, ""));
  if (!apis.includes("*") && !apis.includes(api)) return false;
  if (row.context === "tenant" && !(APIS_BY_CONTEXT.tenant ?? []).includes(api)) return false;
  if (row.context === "mo" && row.source !== source) return false;
  return row.type_filter === null || typeFilterAccepts(row.type_filter, type);
}

/** A type, or several as `'a' or 'b'` (c8y-docs: typeFilter takes an OR of quoted types). */
export function typeFilterAccepts(filter: string, type: string | undefined): boolean {
  if (type === undefined) return false;
  const quoted = [...filter.matchAll(/'((?:[^']|'')*)'/g)].map((m) => (m[1] ?? "").replace(/''/g, "'"));
  return quoted.length > 0 ? quoted.includes(type) : filter === type;
}
