import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { commitTemp, discardTemp, tempPathFor } from "../../fs/atomic.js";
import { requireRoleOrOwner } from "../data/access.js";
import type { ChangeAction } from "../data/change-feed.js";
import { isId } from "../data/documents.js";
import {
  attachmentJson,
  deleteEvents,
  eventInput,
  eventJson,
  findEvent,
  insertEvent,
  queryEvents,
  setAttachment,
  updateEvent,
  type Attachment,
  type EventFilter,
  type EventRow,
} from "../data/events.js";
import { findManagedObject } from "../data/managed-objects.js";
import { ApiError, notFound, readJsonObject, sendJson } from "../http.js";
import { boundaryOf, MultipartError, receiveFile, TooLargeError } from "../multipart.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { checkSources, database, dateParam, param, sendCollection } from "./data-helpers.js";

const READ = [ROLES.eventRead, ROLES.eventAdmin];
const ADMIN = [ROLES.eventAdmin];

/** The event API with attachments (c8y-docs "Events", "Attachments"; roles from the OpenAPI). */
export const eventRoutes: Route[] = [
  {
    method: "POST",
    path: "/event/events",
    access: "user",
    handle: async (call) => {
      const input = eventInput(await readJsonObject(call.req));
      const db = await database(call);
      await checkSources(db, call, [input.source], ADMIN, "event");
      const row = await insertEvent(db, call.principal.tenant, input);
      const document = eventJson(row, call.core.baseUrl);
      await publish(call, "CREATE", [row]);
      sendJson(call.req, call.res, 201, "event", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/event/events",
    access: "user",
    roles: READ,
    handle: async (call) => {
      const db = await database(call);
      const filter = eventFilter(call);
      await sendCollection(call, "eventCollection", "events", async (window) => {
        const { rows, total } = await queryEvents(db, call.principal.tenant, filter, call.url.searchParams.get("revert") === "true", window);
        return { items: rows.map((row) => eventJson(row, call.core.baseUrl)), total };
      });
    },
  },
  {
    method: "DELETE",
    path: "/event/events",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const rows = await deleteEvents(await database(call), call.principal.tenant, eventFilter(call));
      for (const row of rows) if (row.attachment) await rm(attachmentFile(call, row.id), { force: true });
      await publish(call, "DELETE", rows);
      sendJson(call.req, call.res, 204, "event", undefined);
    },
  },
  {
    method: "GET",
    path: "/event/events/:id",
    access: "user",
    handle: async (call) => {
      const row = await existing(call, READ);
      sendJson(call.req, call.res, 200, "event", eventJson(row, call.core.baseUrl));
    },
  },
  {
    method: "PUT",
    path: "/event/events/:id",
    access: "user",
    handle: async (call) => {
      const row = await existing(call, ADMIN);
      const updated = await updateEvent(await database(call), call.principal.tenant, row, await readJsonObject(call.req));
      await publish(call, "UPDATE", [updated]);
      sendJson(call.req, call.res, 200, "event", eventJson(updated, call.core.baseUrl));
    },
  },
  {
    method: "DELETE",
    path: "/event/events/:id",
    access: "user",
    handle: async (call) => {
      const row = await existing(call, ADMIN);
      await deleteEvents(await database(call), call.principal.tenant, { id: row.id });
      await rm(attachmentFile(call, row.id), { force: true });
      await publish(call, "DELETE", [row]);
      sendJson(call.req, call.res, 204, "event", undefined);
    },
  },
  {
    method: "POST",
    path: "/event/events/:id/binaries",
    access: "user",
    // Attachments stream to disk and may be large: idleness bounds them, not the body deadline.
    streamsBody: true,
    handle: (call) => attach(call, false),
  },
  {
    method: "PUT",
    path: "/event/events/:id/binaries",
    access: "user",
    // Attachments stream to disk and may be large: idleness bounds them, not the body deadline.
    streamsBody: true,
    handle: (call) => attach(call, true),
  },
  {
    method: "GET",
    path: "/event/events/:id/binaries",
    access: "user",
    handle: async (call) => {
      const row = await existing(call, READ);
      if (!row.attachment) throw notFound("event/Not Found", `Event ${row.id} has no attached file.`);
      call.res.writeHead(200, { "content-type": row.attachment.type, "content-length": String(row.attachment.length) });
      await pipeline(createReadStream(attachmentFile(call, row.id)), call.res);
    },
  },
  {
    method: "DELETE",
    path: "/event/events/:id/binaries",
    access: "user",
    handle: async (call) => {
      const row = await existing(call, ADMIN);
      if (!row.attachment) throw notFound("event/Not Found", `Event ${row.id} has no attached file.`);
      await setAttachment(await database(call), call.principal.tenant, row.id, null);
      await rm(attachmentFile(call, row.id), { force: true });
      sendJson(call.req, call.res, 204, "event", undefined);
    },
  },
];

function attachmentFile(call: AuthenticatedCall, id: string): string {
  return join(call.core.data.dataDir, "event-binaries", call.principal.tenant, id);
}

/**
 * POST attaches (409 when a file is attached already, c8y-docs: replace it with PUT); PUT
 * replaces. The file streams to a temporary file beside its place and is renamed there only
 * once complete: memory stays flat whatever the size, and nothing half-written remains.
 */
async function attach(call: AuthenticatedCall, replace: boolean): Promise<void> {
  const row = await existing(call, ADMIN);
  if (!replace && row.attachment) throw new ApiError(409, "event/Conflict", `Event ${row.id} has an attached file already; replace it with PUT.`);
  const target = attachmentFile(call, row.id);
  await mkdir(join(target, ".."), { recursive: true });
  const temp = tempPathFor(target);
  try {
    const attachment = await receive(call, temp);
    await commitTemp(temp, target);
    await setAttachment(await database(call), call.principal.tenant, row.id, attachment);
    sendJson(call.req, call.res, 201, "eventBinary", attachmentJson(row, attachment, call.core.baseUrl));
  } finally {
    await discardTemp(temp);
  }
}

/** A multipart body (the file part, as @c8y/client sends it) or the raw bytes (application/octet-stream). */
async function receive(call: AuthenticatedCall, path: string): Promise<Attachment> {
  const { req } = call;
  const limit = call.core.uploadLimit;
  const out = createWriteStream(path, { mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.on("error", reject));
  failed.catch(() => undefined);
  const write = (chunk: Buffer) => (out.write(chunk) ? undefined : Promise.race([once(out, "drain").then(() => undefined), failed]));
  try {
    const boundary = boundaryOf(req.headers["content-type"]);
    let attachment: Attachment;
    if (boundary) {
      const file = await receiveFile(req.iterator({ destroyOnReturn: false }), boundary, write, limit);
      if (!file) throw new ApiError(400, "general/badRequest", "The multipart body holds no file part.");
      attachment = { name: file.fileName ?? file.fieldName, type: file.contentType ?? "application/octet-stream", length: file.bytes };
    } else {
      let bytes = 0;
      for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > limit) throw new TooLargeError(limit);
        await write(chunk);
      }
      attachment = { name: `event-${call.params.id}`, type: req.headers["content-type"] ?? "application/octet-stream", length: bytes };
    }
    await Promise.race([new Promise<void>((resolve) => out.end(() => resolve())), failed]);
    return attachment;
  } catch (error) {
    out.destroy();
    if (error instanceof TooLargeError) throw new ApiError(413, "general/requestEntityTooLarge", `The attached file is larger than the limit of ${limit} bytes.`);
    if (error instanceof MultipartError) throw new ApiError(400, "general/badRequest", error.message);
    throw error;
  }
}

function eventFilter(call: AuthenticatedCall): EventFilter {
  const source = param(call, "source");
  return {
    source: source === undefined ? undefined : isId(source) ? source : "0",
    type: param(call, "type"),
    fragmentType: param(call, "fragmentType"),
    dateFrom: dateParam(call, "dateFrom"),
    dateTo: dateParam(call, "dateTo"),
    createdFrom: dateParam(call, "createdFrom"),
    createdTo: dateParam(call, "createdTo"),
  };
}

/** The event of the path, when the caller has `roles` or owns its source. */
async function existing(call: AuthenticatedCall, roles: readonly string[]): Promise<EventRow> {
  const id = call.params.id ?? "";
  const db = await database(call);
  const row = isId(id) ? await findEvent(db, call.principal.tenant, id) : undefined;
  if (!row) throw notFound("event/Not Found", `Event with id ${id} not found.`);
  requireRoleOrOwner(call.principal, roles, (await findManagedObject(db, call.principal.tenant, row.source))?.owner);
  return row;
}

function publish(call: AuthenticatedCall, action: ChangeAction, rows: readonly EventRow[]): Promise<void> {
  return call.core.data.feed.publish(
    rows.map((row) => ({
      tenant: call.principal.tenant,
      api: "events",
      action,
      id: row.id,
      source: row.source,
      type: row.type,
      document: action === "DELETE" ? { id: row.id } : eventJson(row, call.core.baseUrl),
    })),
  );
}
