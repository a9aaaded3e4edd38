import { hasRole, requireRoleOrOwner } from "../data/access.js";
import type { ChangeAction } from "../data/change-feed.js";
import type { Queryable } from "../data/database.js";
import { idList, isId, type Json } from "../data/documents.js";
import { parseInventoryQuery, QuerySyntaxError, type FilterNode, type InventoryQuery } from "../data/inventory-query.js";
import {
  addReference,
  childrenOf,
  createManagedObject,
  deleteManagedObject,
  findManagedObject,
  managedObjectJson,
  queryManagedObjects,
  referenceJson,
  referencesInBody,
  referencesOf,
  removeReference,
  REFERENCE_KINDS,
  updateManagedObject,
  type ManagedObjectFilter,
  type ManagedObjectRow,
  type ReferenceKind,
} from "../data/managed-objects.js";
import { supportedSeries } from "../data/measurements.js";
import { ApiError, collection, forbidden, notFound, paginate, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { statusApplications, statusObject } from "../status-objects.js";
import { database, param, sendCollection } from "./data-helpers.js";

const READ = [ROLES.inventoryRead, ROLES.inventoryAdmin];
const ADMIN = [ROLES.inventoryAdmin];
const CREATE = [ROLES.inventoryAdmin, ROLES.inventoryCreate];
const STATUS_TYPE = /^c8y_Application_\d+$/;

/**
 * The inventory API (c8y-docs "Inventory", OpenAPI ManagedObjects and ChildOperations). The
 * required roles are the OpenAPI's: reading needs ROLE_INVENTORY_READ or owning the object,
 * creating ROLE_INVENTORY_ADMIN or _CREATE, changing ROLE_INVENTORY_ADMIN or owning it.
 */
export const inventoryRoutes: Route[] = [
  {
    method: "GET",
    path: "/inventory/managedObjects",
    access: "user",
    handle: async (call) => {
      const type = param(call, "type");
      // The microservices' status objects answer their own type; they are not stored data.
      if (type !== undefined && STATUS_TYPE.test(type)) {
        if (!hasRole(call.principal, READ)) throw forbidden();
        const objects = statusApplications(call.core, call.principal.tenant)
          .map((app) => statusObject(call.core, app))
          .filter((mo) => mo.type === type);
        sendJson(call.req, call.res, 200, "managedObjectCollection", collection("managedObjects", paginate(objects, call.url)));
        return;
      }
      const db = await database(call);
      const filter = collectionFilter(call);
      const withChildren = call.url.searchParams.get("withChildren") !== "false";
      await sendCollection(call, "managedObjectCollection", "managedObjects", async (window) => {
        const { rows, total } = await queryManagedObjects(db, call.principal.tenant, filter, window);
        return { items: await documents(db, call, rows, withChildren), total };
      });
    },
  },
  {
    method: "GET",
    path: "/inventory/managedObjects/count",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const { total } = await queryManagedObjects(db, call.principal.tenant, collectionFilter(call), { limit: 0, offset: 0, withTotal: true });
      const text = String(total ?? 0);
      call.res.writeHead(200, { "content-type": "application/json;charset=UTF-8", "content-length": String(text.length) }).end(text);
    },
  },
  {
    method: "POST",
    path: "/inventory/managedObjects",
    access: "user",
    roles: CREATE,
    handle: async (call) => {
      const input = await readJsonObject(call.req);
      const db = await database(call);
      const row = await db.transaction(async (tx) => {
        const created = await createManagedObject(tx, call.principal.tenant, call.principal.user.name, input);
        await linkFromBody(tx, call, created.id, input);
        return created;
      });
      const document = await documentOf(db, call, row);
      await publish(call, "CREATE", [document]);
      sendJson(call.req, call.res, 201, "managedObject", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/inventory/managedObjects/:id",
    access: "user",
    handle: async (call) => {
      const id = call.params.id ?? "";
      const app = statusApplications(call.core, call.principal.tenant).find((a) => a.statusObjectId === id);
      if (app) {
        if (!hasRole(call.principal, READ)) throw forbidden();
        sendJson(call.req, call.res, 200, "managedObject", statusObject(call.core, app));
        return;
      }
      const db = await database(call);
      const row = await existing(db, call, id);
      requireRoleOrOwner(call.principal, READ, row.owner);
      sendJson(call.req, call.res, 200, "managedObject", await documentOf(db, call, row, call.url.searchParams.get("withChildren") !== "false"));
    },
  },
  {
    method: "PUT",
    path: "/inventory/managedObjects/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(db, call, call.params.id ?? "");
      requireRoleOrOwner(call.principal, ADMIN, row.owner);
      const input = await readJsonObject(call.req);
      const updated = await db.transaction(async (tx) => {
        const result = await updateManagedObject(tx, call.principal.tenant, row, input);
        await linkFromBody(tx, call, row.id, input);
        return result;
      });
      const document = await documentOf(db, call, updated);
      await publish(call, "UPDATE", [document]);
      sendJson(call.req, call.res, 200, "managedObject", document);
    },
  },
  {
    method: "DELETE",
    path: "/inventory/managedObjects/:id",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(db, call, call.params.id ?? "");
      requireRoleOrOwner(call.principal, ADMIN, row.owner);
      // withDeviceUser deletes the device's own user; the sandbox has no device credentials, so there is none to delete.
      const deleted = await db.transaction((tx) => deleteManagedObject(tx, call.principal.tenant, row.id, call.url.searchParams.get("cascade") === "true"));
      await publish(call, "DELETE", deleted.map((d) => ({ id: d.id, ...(d.type === null ? {} : { type: d.type }) })));
      sendJson(call.req, call.res, 204, "managedObject", undefined);
    },
  },
  {
    method: "GET",
    path: "/inventory/managedObjects/:id/supportedMeasurements",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(db, call, call.params.id ?? "");
      requireRoleOrOwner(call.principal, READ, row.owner);
      const series = await supportedSeries(db, call.principal.tenant, row.id);
      const fragments = [...new Set(series.map((s) => s.split(".")[0] ?? s))];
      sendJson(call.req, call.res, 200, "managedObject", { c8y_SupportedMeasurements: fragments });
    },
  },
  {
    method: "GET",
    path: "/inventory/managedObjects/:id/supportedSeries",
    access: "user",
    handle: async (call) => {
      const db = await database(call);
      const row = await existing(db, call, call.params.id ?? "");
      requireRoleOrOwner(call.principal, READ, row.owner);
      sendJson(call.req, call.res, 200, "managedObject", { c8y_SupportedSeries: await supportedSeries(db, call.principal.tenant, row.id) });
    },
  },
  ...REFERENCE_KINDS.flatMap((kind) => referenceRoutes(kind)),
];

/** `/inventory/managedObjects/{id}/childDevices` and its siblings for assets and additions. */
function referenceRoutes(kind: ReferenceKind): Route[] {
  const base = `/inventory/managedObjects/:id/${kind}`;
  return [
    {
      method: "GET",
      path: base,
      access: "user",
      handle: async (call) => {
        const db = await database(call);
        const parent = await existing(db, call, call.params.id ?? "");
        requireRoleOrOwner(call.principal, READ, parent.owner);
        await sendCollection(call, "managedObjectReferenceCollection", "references", async (window) => {
          const { rows, total } = await childrenOf(db, call.principal.tenant, parent.id, kind, window);
          const references = await referencesOf(db, call.principal.tenant, rows.map((r) => r.id));
          return { items: rows.map((child) => referenceJson(call.core.baseUrl, parent.id, kind, child, references)), total };
        });
      },
    },
    {
      method: "POST",
      path: base,
      access: "user",
      handle: async (call) => {
        const db = await database(call);
        const parent = await existing(db, call, call.params.id ?? "");
        const input = await readJsonObject(call.req);
        const tenant = call.principal.tenant;
        // A body with `managedObject` or `references` links existing objects; any other body is a new child.
        if (input.managedObject === undefined && input.references === undefined) {
          requireRoleOrOwner(call.principal, ADMIN, parent.owner);
          if (!hasRole(call.principal, CREATE)) throw forbidden();
          const child = await db.transaction(async (tx) => {
            const created = await createManagedObject(tx, tenant, call.principal.user.name, input);
            await addReference(tx, tenant, parent.id, kind, created.id);
            return created;
          });
          const document = await documentOf(db, call, child);
          await publish(call, "CREATE", [document]);
          await publish(call, "UPDATE", [await documentOf(db, call, parent)]);
          sendJson(call.req, call.res, 201, "managedObject", document, { location: String(document.self) });
          return;
        }
        const bulk = input.references !== undefined;
        const ids = bulk ? referencedIds(input.references) : referencedIds([input]);
        const children = await db.transaction(async (tx) => {
          const linked: ManagedObjectRow[] = [];
          for (const id of ids) {
            const child = await existing(tx, call, id);
            // OpenAPI: ADMIN, or owning (or administering) both the parent and the child.
            if (!hasRole(call.principal, ADMIN) && (parent.owner !== call.principal.user.name || child.owner !== call.principal.user.name)) throw forbidden();
            if (!(await addReference(tx, tenant, parent.id, kind, child.id))) {
              throw new ApiError(422, "inventory/Unprocessable Entity", `Managed object ${child.id} cannot be a child of ${parent.id}: it is the object itself or one of its ancestors.`);
            }
            linked.push(child);
          }
          return linked;
        });
        await publish(call, "UPDATE", [await documentOf(db, call, parent)]);
        const references = await referencesOf(db, tenant, children.map((c) => c.id));
        const documents = children.map((child) => referenceJson(call.core.baseUrl, parent.id, kind, child, references));
        if (bulk) sendJson(call.req, call.res, 201, "managedObjectReferenceCollection", { references: documents });
        else sendJson(call.req, call.res, 201, "managedObjectReference", documents[0], { location: String(documents[0]?.self) });
      },
    },
    {
      method: "GET",
      path: `${base}/:child`,
      access: "user",
      handle: async (call) => {
        const db = await database(call);
        const parent = await existing(db, call, call.params.id ?? "");
        requireRoleOrOwner(call.principal, READ, parent.owner);
        const references = await referencesOf(db, call.principal.tenant, [parent.id]);
        const link = references.find((r) => r.parent === parent.id && r.kind === kind && r.child === call.params.child);
        if (!link) throw notFound("inventory/Not Found", `Managed object ${call.params.child} is not in ${kind} of ${parent.id}.`);
        const child = await existing(db, call, link.child);
        sendJson(call.req, call.res, 200, "managedObjectReference", referenceJson(call.core.baseUrl, parent.id, kind, child, await referencesOf(db, call.principal.tenant, [child.id])));
      },
    },
    {
      method: "DELETE",
      path: `${base}/:child`,
      access: "user",
      handle: async (call) => {
        const db = await database(call);
        const parent = await existing(db, call, call.params.id ?? "");
        const child = await findManagedObject(db, call.principal.tenant, isId(call.params.child) ? call.params.child : "0");
        if (!hasRole(call.principal, ADMIN) && parent.owner !== call.principal.user.name && child?.owner !== call.principal.user.name) throw forbidden();
        if (!(await removeReference(db, call.principal.tenant, parent.id, kind, call.params.child ?? ""))) {
          throw notFound("inventory/Not Found", `Managed object ${call.params.child} is not in ${kind} of ${parent.id}.`);
        }
        await publish(call, "UPDATE", [await documentOf(db, call, parent)]);
        sendJson(call.req, call.res, 204, "managedObjectReference", undefined);
      },
    },
  ];
}

const CHILD_PARAMETERS: Record<string, ReferenceKind> = { childAssetId: "childAssets", childDeviceId: "childDevices", childAdditionId: "childAdditions" };

/** The query parameters of `GET /inventory/managedObjects` (c8y-docs, OpenAPI). */
function collectionFilter(call: AuthenticatedCall): ManagedObjectFilter {
  const childOf = Object.entries(CHILD_PARAMETERS)
    .map(([name, kind]) => ({ kind, id: param(call, name) }))
    .find((c) => c.id !== undefined);
  return {
    type: param(call, "type"),
    fragmentType: param(call, "fragmentType"),
    owner: param(call, "owner"),
    text: param(call, "text"),
    ids: idList(call.url.searchParams.get("ids")),
    childOf: childOf?.id === undefined ? undefined : { kind: childOf.kind, id: isId(childOf.id) ? childOf.id : "0" },
    query: readQuery(call),
    ownedBy: hasRole(call.principal, READ) ? undefined : call.principal.user.name,
  };
}

/**
 * `query=` takes the query language as it is; `q=` is the device query, which adds
 * `has(c8y_IsDevice)` (c8y-docs; @c8y/client's listQueryDevices sends it).
 */
function readQuery(call: AuthenticatedCall): InventoryQuery | undefined {
  const query = param(call, "query");
  const q = param(call, "q");
  if (query === undefined && q === undefined) return undefined;
  try {
    const parsed = parseInventoryQuery(query ?? q ?? "");
    if (q === undefined || query !== undefined) return parsed;
    const device: FilterNode = { kind: "has", fragment: "c8y_IsDevice" };
    return { ...parsed, filter: parsed.filter ? { kind: "and", operands: [device, parsed.filter] } : device };
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw new ApiError(422, "inventory/Unprocessable Entity", `The inventory query cannot be read: ${error.message}`);
    throw error;
  }
}

async function existing(db: Queryable, call: AuthenticatedCall, id: string): Promise<ManagedObjectRow> {
  const row = isId(id) ? await findManagedObject(db, call.principal.tenant, id) : undefined;
  if (!row) throw notFound("inventory/Not Found", `Finding managed object with id ${id} failed.`);
  return row;
}

/** Child references named in a create or update body; the children must exist in the tenant. */
async function linkFromBody(tx: Queryable, call: AuthenticatedCall, parent: string, input: Json): Promise<void> {
  for (const { kind, child } of referencesInBody(input)) {
    const target = await existing(tx, call, child);
    if (!(await addReference(tx, call.principal.tenant, parent, kind, target.id))) {
      throw new ApiError(422, "inventory/Unprocessable Entity", `Managed object ${target.id} cannot be a child of ${parent}: it is the object itself or one of its ancestors.`);
    }
  }
}

function referencedIds(references: unknown): string[] {
  if (!Array.isArray(references)) throw new ApiError(422, "inventory/Unprocessable Entity", 'Send {"managedObject": {"id": "<id>"}} or {"references": [{"managedObject": {"id": "<id>"}}]}.');
  return references.map((reference) => {
    const id = (reference as { managedObject?: { id?: unknown } } | null)?.managedObject?.id;
    if (typeof id !== "string" && typeof id !== "number") throw new ApiError(422, "inventory/Unprocessable Entity", 'Each reference needs {"managedObject": {"id": "<id>"}}.');
    return String(id);
  });
}

async function documents(db: Queryable, call: AuthenticatedCall, rows: ManagedObjectRow[], withChildren = true): Promise<Json[]> {
  const references = await referencesOf(db, call.principal.tenant, rows.map((r) => r.id));
  return rows.map((row) => managedObjectJson(row, references, call.core.baseUrl, withChildren));
}

async function documentOf(db: Queryable, call: AuthenticatedCall, row: ManagedObjectRow, withChildren = true): Promise<Json> {
  const [document] = await documents(db, call, [row], withChildren);
  return document as Json;
}

function publish(call: AuthenticatedCall, action: ChangeAction, changed: Json[]): Promise<void> {
  const tenant = call.principal.tenant;
  return call.core.data.feed.publish(
    changed.map((document) => {
      const id = String(document.id);
      return { tenant, api: "managedobjects", action, id, source: id, type: typeof document.type === "string" ? document.type : undefined, document };
    }),
  );
}
