import { validationError } from "../data/documents.js";
import {
  deleteSubscriptions,
  findSubscription,
  insertSubscription,
  querySubscriptions,
  subscriptionInput,
  subscriptionJson,
  type SubscriptionFilter,
} from "../data/notification-subscriptions.js";
import { findManagedObject } from "../data/managed-objects.js";
import { issueNotificationToken, readNotificationToken } from "../data/notification-tokens.js";
import { isId } from "../data/documents.js";
import { ApiError, notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES } from "../state.js";
import { database, param, sendCollection } from "./data-helpers.js";

/** Every endpoint needs ROLE_NOTIFICATION_2_ADMIN (OpenAPI Subscriptions, Tokens). */
const ADMIN = [ROLES.notification2Admin];
const DEFAULT_EXPIRY_MINUTES = 1440;

/** Notifications 2.0: subscriptions, tokens, unsubscribing (the consumer is notification-hub.ts). */
export const notification2Routes: Route[] = [
  {
    method: "POST",
    path: "/notification2/subscriptions",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const input = subscriptionInput(await readJsonObject(call.req));
      const db = await database(call);
      if (input.source !== null && !(await findManagedObject(db, call.principal.tenant, input.source))) {
        throw notFound("notification2/Not Found", `Managed object with id ${input.source} not found.`);
      }
      const row = await insertSubscription(db, call.principal.tenant, input);
      if (!row) throw new ApiError(409, "notification2/Conflict", `A subscription named ${input.name} exists already in this ${input.context} context.`);
      call.core.notifications.forget(call.principal.tenant);
      const document = subscriptionJson(row, call.core.baseUrl);
      sendJson(call.req, call.res, 201, "subscription", document, { location: String(document.self) });
    },
  },
  {
    method: "GET",
    path: "/notification2/subscriptions",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const db = await database(call);
      const filter = subscriptionFilter(call);
      await sendCollection(call, "subscriptionCollection", "subscriptions", async (window) => {
        const rows = await querySubscriptions(db, call.principal.tenant, filter, window);
        const total = window.withTotal ? (await querySubscriptions(db, call.principal.tenant, filter)).length : undefined;
        return { items: rows.map((row) => subscriptionJson(row, call.core.baseUrl)), total };
      });
    },
  },
  {
    method: "DELETE",
    path: "/notification2/subscriptions",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const filter = subscriptionFilter(call);
      // OpenAPI DeleteNotificationSubscriptionBySourceResource: source is required unless context=tenant.
      if (filter.source === undefined && filter.context !== "tenant") throw validationError("Name the managed object (?source=<id>) or delete the tenant context's subscriptions (?context=tenant).");
      const db = await database(call);
      const rows = await querySubscriptions(db, call.principal.tenant, filter);
      await deleteSubscriptions(db, call.principal.tenant, rows.map((r) => r.id));
      call.core.notifications.forget(call.principal.tenant);
      sendJson(call.req, call.res, 204, "subscription", undefined);
    },
  },
  {
    method: "GET",
    path: "/notification2/subscriptions/:id",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const row = await existing(call);
      sendJson(call.req, call.res, 200, "subscription", subscriptionJson(row, call.core.baseUrl));
    },
  },
  {
    method: "DELETE",
    path: "/notification2/subscriptions/:id",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const row = await existing(call);
      await deleteSubscriptions(await database(call), call.principal.tenant, [row.id]);
      call.core.notifications.forget(call.principal.tenant);
      sendJson(call.req, call.res, 204, "subscription", undefined);
    },
  },
  {
    method: "POST",
    path: "/notification2/token",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      const { subscriber, subscription } = body;
      if (typeof subscriber !== "string" || !/^[A-Za-z0-9_-]+$/.test(subscriber)) throw validationError("subscriber must be a name of letters, digits, _ and -.");
      if (typeof subscription !== "string" || subscription === "") throw validationError("subscription must name an existing subscription.");
      const minutes = body.expiresInMinutes === undefined ? DEFAULT_EXPIRY_MINUTES : Number(body.expiresInMinutes);
      if (!Number.isInteger(minutes) || minutes < 1) throw validationError("expiresInMinutes must be a whole number of minutes, at least 1.");
      const db = await database(call);
      if ((await querySubscriptions(db, call.principal.tenant, { subscription })).length === 0) {
        throw validationError(`There is no subscription named ${subscription}; create it with POST /notification2/subscriptions first.`);
      }
      const claims = { tenant: call.principal.tenant, subscriber, subscription, shared: body.shared === true, nonPersistent: body.nonPersistent === true };
      await call.core.notifications.register(db, claims);
      const token = issueNotificationToken(claims, minutes, call.core.store.state.tokenSecret);
      sendJson(call.req, call.res, 200, "notificationToken", { token });
    },
  },
  {
    method: "POST",
    path: "/notification2/unsubscribe",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const claims = readNotificationToken(param(call, "token") ?? "", call.core.store.state.tokenSecret);
      if (!claims || claims.tenant !== call.principal.tenant) throw validationError("token must be a valid notification token of this tenant.");
      await call.core.notifications.unsubscribe(await database(call), claims);
      sendJson(call.req, call.res, 200, "notificationToken", { result: "DONE" });
    },
  },
];

function subscriptionFilter(call: AuthenticatedCall): SubscriptionFilter {
  const source = param(call, "source");
  return { context: param(call, "context"), source: source === undefined ? undefined : isId(source) ? source : "0", subscription: param(call, "subscription") };
}

async function existing(call: AuthenticatedCall) {
  const id = call.params.id ?? "";
  const row = isId(id) ? await findSubscription(await database(call), call.principal.tenant, id) : undefined;
  if (!row) throw notFound("notification2/Not Found", `Subscription with id ${id} not found.`);
  return row;
}
