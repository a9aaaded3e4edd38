import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Change } from "./data/change-feed.js";
import type { Queryable } from "./data/database.js";
import { subscriptionMatches, type SubscriptionRow } from "./data/notification-subscriptions.js";
import { readNotificationToken, type NotificationClaims } from "./data/notification-tokens.js";
import type { DataStore } from "./data/store.js";
import { ERROR_INFO } from "./http.js";

export const CONSUMER_PATH = "/notification2/consumer";
/** What a consumer sends instead of an acknowledgement to drop its subscriber (c8y-docs, since 10.14). */
const UNSUBSCRIBE = "unsubscribe_subscriber";

interface Consumer {
  socket: WebSocket;
  claims: NotificationClaims;
  /** False while the stored backlog is being sent; live messages wait in the database meanwhile. */
  ready: boolean;
}

/** Fields every API's document keeps when `fragmentsToCopy` drops the other fragments. */
const STANDARD_FIELDS = new Set(["id", "self", "time", "type", "source", "text", "status", "severity", "count", "firstOccurrenceTime", "creationTime", "lastUpdated", "deviceId", "name", "owner"]);

/**
 * The Notifications 2.0 consumer (c8y-docs "Notifications 2.0"; the consumers of
 * cumulocity-examples' hello-world-notification-microservice and cumulocity-python-api's
 * c8y_tk.notification2 read this format): each WebSocket text message is header lines — the
 * acknowledgement id, the path `/<tenant>/<api>/<id of the document>`, the action — a blank line and
 * the JSON body. The consumer acknowledges by sending the id back. For a persistent
 * subscription every notification waits in the database until acknowledged, from the token's
 * creation on, and unacknowledged ones are sent again when the subscriber reconnects; a
 * non-persistent one only reaches consumers connected at that moment.
 */
export class NotificationHub {
  readonly #data: DataStore;
  readonly #secret: () => string;
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #consumers = new Map<string, Consumer[]>();
  /** Subscriptions per tenant, loaded on the tenant's first change, dropped when they change. */
  readonly #subscriptions = new Map<string, SubscriptionRow[]>();
  #transientAck = 0;
  #turn = 0;

  constructor(data: DataStore, secret: () => string) {
    this.#data = data;
    this.#secret = secret;
    data.feed.listen((changes) => this.#deliver(changes));
  }

  /** A subscription of `tenant` was created or deleted. */
  forget(tenant: string): void {
    this.#subscriptions.delete(tenant);
  }

  /** From a persistent token's creation on, the subscriber's notifications are kept. */
  async register(db: Queryable, claims: Omit<NotificationClaims, "exp">): Promise<void> {
    if (claims.nonPersistent) return;
    await db.query(`insert into n2_subscribers (tenant, subscription, subscriber) values ($1, $2, $3) on conflict do nothing`, [claims.tenant, claims.subscription, claims.subscriber]);
  }

  /** Drops the subscriber with everything kept for it, and closes its consumers. */
  async unsubscribe(db: Queryable, claims: Pick<NotificationClaims, "tenant" | "subscription" | "subscriber">): Promise<void> {
    const args = [claims.tenant, claims.subscription, claims.subscriber];
    await db.query(`delete from n2_messages where tenant = $1 and subscription = $2 and subscriber = $3`, args);
    await db.query(`delete from n2_subscribers where tenant = $1 and subscription = $2 and subscriber = $3`, args);
    for (const consumer of this.#consumers.get(keyOf(claims)) ?? []) consumer.socket.close(1000, "unsubscribed");
  }

  /** `GET /notification2/consumer/?token=...` upgraded to a WebSocket; a bad token is a 401. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const claims = readNotificationToken(url.searchParams.get("token") ?? "", this.#secret());
    if (!claims) {
      const body = JSON.stringify({ error: "security/Unauthorized", message: "The notification token is missing, invalid or expired; create one with POST /notification2/token.", info: ERROR_INFO });
      socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    this.#server.handleUpgrade(req, socket, head, (ws) => {
      void this.#attach(ws, claims).catch(() => ws.terminate());
    });
  }

  async close(): Promise<void> {
    for (const consumers of this.#consumers.values()) for (const consumer of consumers) consumer.socket.terminate();
    this.#consumers.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #attach(socket: WebSocket, claims: NotificationClaims): Promise<void> {
    const key = keyOf(claims);
    const consumer: Consumer = { socket, claims, ready: false };
    this.#consumers.set(key, [...(this.#consumers.get(key) ?? []), consumer]);
    socket.on("close", () => {
      const rest = (this.#consumers.get(key) ?? []).filter((c) => c !== consumer);
      if (rest.length > 0) this.#consumers.set(key, rest);
      else this.#consumers.delete(key);
    });
    socket.on("message", (data) => void this.#received(consumer, String(data)).catch(() => socket.terminate()));
    if (!claims.nonPersistent) {
      const db = await this.#data.database();
      await this.register(db, claims);
      const { rows } = await db.query<{ ack: string; message: string }>(
        `select ack::text as ack, message from n2_messages where tenant = $1 and subscription = $2 and subscriber = $3 order by ack`,
        [claims.tenant, claims.subscription, claims.subscriber],
      );
      // Set ready in the same turn as the backlog read: anything stored later is delivered live.
      for (const row of rows) socket.send(`${row.ack}\n${row.message}`);
    }
    consumer.ready = true;
  }

  async #received(consumer: Consumer, text: string): Promise<void> {
    const { claims } = consumer;
    const command = text.trim();
    const db = await this.#data.database();
    if (command === UNSUBSCRIBE) {
      await this.unsubscribe(db, claims);
      return;
    }
    if (claims.nonPersistent || !/^\d+$/.test(command)) return;
    await db.query(`delete from n2_messages where ack = $1 and tenant = $2 and subscription = $3 and subscriber = $4`, [command, claims.tenant, claims.subscription, claims.subscriber]);
  }

  async #deliver(changes: readonly Change[]): Promise<void> {
    const tenant = changes[0]?.tenant;
    if (tenant === undefined) return;
    const db = await this.#data.database();
    const subscriptions = await this.#subscriptionsOf(db, tenant);
    if (subscriptions.length === 0) return;
    // One notification per subscription name and change, however many subscriptions of that name match.
    const byName = new Map<string, { persistent: string[]; transient: string[] }>();
    for (const change of changes) {
      const matched = new Map<string, SubscriptionRow>();
      for (const row of subscriptions) if (!matched.has(`${row.name}\0${row.non_persistent}`) && subscriptionMatches(row, change.api, change.source, change.type)) matched.set(`${row.name}\0${row.non_persistent}`, row);
      for (const row of matched.values()) {
        const entry = byName.get(row.name) ?? { persistent: [], transient: [] };
        (row.non_persistent ? entry.transient : entry.persistent).push(messageOf(change, row));
        byName.set(row.name, entry);
      }
    }
    for (const [name, messages] of byName) {
      if (messages.persistent.length > 0) await this.#store(db, tenant, name, messages.persistent);
      for (const message of messages.transient) {
        // Each subscriber (a key) gets the message once, on one of its consumers.
        for (const consumers of this.#consumers.values()) {
          const ready = consumers.filter((c) => c.ready && c.claims.nonPersistent && c.claims.tenant === tenant && c.claims.subscription === name);
          this.#pick(ready)?.socket.send(`t${++this.#transientAck}\n${message}`);
        }
      }
    }
  }

  /** Queues the messages for every subscriber of the name, then hands them to connected consumers. */
  async #store(db: Queryable, tenant: string, subscription: string, messages: string[]): Promise<void> {
    const { rows: subscribers } = await db.query<{ subscriber: string }>(`select subscriber from n2_subscribers where tenant = $1 and subscription = $2`, [tenant, subscription]);
    for (const { subscriber } of subscribers) {
      const { rows } = await db.query<{ ack: string; message: string }>(
        `insert into n2_messages (tenant, subscription, subscriber, message)
         select $1, $2, $3, m.message from unnest($4::text[]) with ordinality as m(message, position) order by m.position
         returning ack::text as ack, message`,
        [tenant, subscription, subscriber, messages],
      );
      const consumers = (this.#consumers.get(keyOf({ tenant, subscription, subscriber })) ?? []).filter((c) => c.ready && !c.claims.nonPersistent);
      for (const row of rows.sort((a, b) => Number(a.ack) - Number(b.ack))) this.#pick(consumers)?.socket.send(`${row.ack}\n${row.message}`);
    }
  }

  /** Shared consumers take turns; otherwise the first connected consumer gets everything. */
  #pick(consumers: readonly Consumer[]): Consumer | undefined {
    if (consumers.length === 0) return undefined;
    if (!consumers[0]?.claims.shared) return consumers[0];
    return consumers[this.#turn++ % consumers.length];
  }

  async #subscriptionsOf(db: Queryable, tenant: string): Promise<SubscriptionRow[]> {
    let rows = this.#subscriptions.get(tenant);
    if (!rows) {
      rows = (
        await db.query<SubscriptionRow>(
          `select id::text as id, name, context, source::text as source, apis, type_filter, fragments_to_copy, non_persistent, creation_time from n2_subscriptions where tenant = $1`,
          [tenant],
        )
      ).rows;
      this.#subscriptions.set(tenant, rows);
    }
    return rows;
  }
}

function keyOf(claims: Pick<NotificationClaims, "tenant" | "subscription" | "subscriber">): string {
  return `${claims.tenant}\0${claims.subscription}\0${claims.subscriber}`;
}

/**
 * The message without its acknowledgement line: the document's path, action, blank line, body
 * (go-c8y's notification2 test frame: `/t123456/measurements/12345` for measurement 12345 of
 * source 11111). A deletion's body is the id of what was deleted.
 */
function messageOf(change: Change, row: SubscriptionRow): string {
  const body = change.action === "DELETE" ? change.id : JSON.stringify(copyFragments(change.document, row.fragments_to_copy));
  return `/${change.tenant}/${change.api}/${change.id}\n${change.action}\n\n${body}`;
}

/** `fragmentsToCopy`: the standard fields and only the named custom fragments (OpenAPI). */
function copyFragments(document: Record<string, unknown>, fragments: string[] | null): Record<string, unknown> {
  if (fragments === null) return document;
  return Object.fromEntries(Object.entries(document).filter(([key]) => STANDARD_FIELDS.has(key) || fragments.includes(key)));
}
