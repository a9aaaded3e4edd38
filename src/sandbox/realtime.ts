import { randomBytes } from "node:crypto";
import type { Principal } from "./auth.js";
import { hasRole } from "./data/access.js";
import type { Change, ChangeApi } from "./data/change-feed.js";
import type { DataStore } from "./data/store.js";
import { ROLES } from "./state.js";

/**
 * The real-time notification API (c8y-docs reference "Real-time notifications" and the
 * notification pages of each API): Bayeux over HTTP long-polling at `/notification/realtime`
 * and `/cep/realtime`, as @c8y/client's Realtime (CometD) speaks it. Channels are
 * `/<api>/<id>` or `/<api>/*` for managedobjects, measurements, events, alarms and
 * operations (an operation's channel is its device); each message carries
 * `{realtimeAction: CREATE|UPDATE|DELETE, data}`, for a deletion only the id.
 */

/** How long a `/meta/connect` waits for messages before answering empty (CometD's usual 30 s). */
export const CONNECT_TIMEOUT_MS = 30_000;
/** A client that has not connected for this long is forgotten. */
const CLIENT_EXPIRY_MS = 120_000;
/** Messages kept for a client between two connects; older ones are dropped first. */
const QUEUE_LIMIT = 1000;

/** The READ role each channel needs (e.g. "Required role: ROLE_MEASUREMENT_READ", c8y-docs). */
const CHANNEL_ROLES: Record<ChangeApi, readonly string[]> = {
  managedobjects: [ROLES.inventoryRead, ROLES.inventoryAdmin],
  measurements: [ROLES.measurementRead, ROLES.measurementAdmin],
  events: [ROLES.eventRead, ROLES.eventAdmin],
  alarms: [ROLES.alarmRead, ROLES.alarmAdmin],
  operations: [ROLES.deviceControlRead, ROLES.deviceControlAdmin],
};

export type BayeuxMessage = Record<string, unknown> & { channel?: string; id?: string; clientId?: string };

interface RealtimeClient {
  id: string;
  principal: Principal;
  channels: Set<string>;
  queue: BayeuxMessage[];
  /** The held `/meta/connect`, answered when a message arrives or the timeout passes. */
  waiting: { wake: () => void } | undefined;
  connected: boolean;
  lastSeen: number;
}

export class RealtimeHub {
  readonly #clients = new Map<string, RealtimeClient>();

  constructor(data: DataStore) {
    data.feed.listen((changes) => this.#deliver(changes));
  }

  /** One POST of Bayeux messages, answered with the responses (a connect may wait for data). */
  async handle(principal: Principal, messages: BayeuxMessage[], signal: AbortSignal): Promise<BayeuxMessage[]> {
    this.#expire();
    const replies: BayeuxMessage[] = [];
    let connect: { message: BayeuxMessage; client: RealtimeClient } | undefined;
    for (const message of messages) {
      const channel = message.channel ?? "";
      if (channel === "/meta/handshake") {
        replies.push(this.#handshake(principal, message));
        continue;
      }
      const client = this.#clients.get(message.clientId ?? "");
      if (!client || client.principal.tenant !== principal.tenant || client.principal.user.name !== principal.user.name) {
        replies.push({ channel, id: message.id, successful: false, error: "402::Unknown client", advice: { reconnect: "handshake", interval: 0 } });
        continue;
      }
      client.lastSeen = Date.now();
      if (channel === "/meta/connect") connect = { message, client };
      else if (channel === "/meta/subscribe" || channel === "/meta/unsubscribe") replies.push(this.#subscription(client, message));
      else if (channel === "/meta/disconnect") {
        this.#clients.delete(client.id);
        client.waiting?.wake();
        replies.push({ channel, id: message.id, clientId: client.id, successful: true });
      } else replies.push({ channel, id: message.id, successful: false, error: "403::Publishing is not supported" });
    }
    if (connect) replies.push(...(await this.#connect(connect.client, connect.message, signal)));
    return replies;
  }

  close(): void {
    for (const client of this.#clients.values()) client.waiting?.wake();
    this.#clients.clear();
  }

  #handshake(principal: Principal, message: BayeuxMessage): BayeuxMessage {
    const id = randomBytes(12).toString("base64url");
    this.#clients.set(id, { id, principal, channels: new Set(), queue: [], waiting: undefined, connected: false, lastSeen: Date.now() });
    return {
      channel: "/meta/handshake",
      id: message.id,
      version: "1.0",
      minimumVersion: "1.0",
      supportedConnectionTypes: ["long-polling"],
      clientId: id,
      successful: true,
      advice: { reconnect: "retry", interval: 0, timeout: CONNECT_TIMEOUT_MS },
    };
  }

  #subscription(client: RealtimeClient, message: BayeuxMessage): BayeuxMessage {
    const subscription = typeof message.subscription === "string" ? message.subscription : "";
    const reply: BayeuxMessage = { channel: message.channel, id: message.id, clientId: client.id, subscription };
    const [, api = "", target = "", rest] = subscription.split("/");
    if (!(api in CHANNEL_ROLES) || target === "" || rest !== undefined) {
      return { ...reply, successful: false, error: `400::${subscription} is not a channel; use /<api>/<id> or /<api>/* with managedobjects, measurements, events, alarms or operations` };
    }
    if (message.channel === "/meta/unsubscribe") {
      client.channels.delete(subscription);
      return { ...reply, successful: true };
    }
    if (!hasRole(client.principal, CHANNEL_ROLES[api as ChangeApi])) return { ...reply, successful: false, error: "403::Access is denied" };
    client.channels.add(subscription);
    return { ...reply, successful: true };
  }

  /** The first connect answers at once; later ones wait for messages, the timeout or the client leaving. */
  async #connect(client: RealtimeClient, message: BayeuxMessage, signal: AbortSignal): Promise<BayeuxMessage[]> {
    if (client.connected && client.queue.length === 0) {
      client.waiting?.wake();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, CONNECT_TIMEOUT_MS);
        function wake() {
          clearTimeout(timer);
          signal.removeEventListener("abort", wake);
          resolve();
        }
        signal.addEventListener("abort", wake);
        client.waiting = { wake };
      });
      client.waiting = undefined;
    }
    client.connected = true;
    client.lastSeen = Date.now();
    const delivered = client.queue.splice(0);
    const reply: BayeuxMessage = { channel: "/meta/connect", id: message.id, clientId: client.id, successful: true, advice: { reconnect: "retry", interval: 0, timeout: CONNECT_TIMEOUT_MS } };
    if (!this.#clients.has(client.id)) return [{ ...reply, successful: false, error: "402::Unknown client", advice: { reconnect: "handshake" } }];
    return [...delivered, reply];
  }

  #deliver(changes: readonly Change[]): void {
    for (const client of this.#clients.values()) {
      let woken = false;
      for (const change of changes) {
        if (change.tenant !== client.principal.tenant) continue;
        for (const channel of [`/${change.api}/${change.source}`, `/${change.api}/*`]) {
          if (!client.channels.has(channel)) continue;
          client.queue.push({ channel: `/${change.api}/${change.source}`, data: { realtimeAction: change.action, data: change.action === "DELETE" ? change.id : change.document } });
          if (client.queue.length > QUEUE_LIMIT) client.queue.shift();
          woken = true;
          break;
        }
      }
      if (woken) client.waiting?.wake();
    }
  }

  #expire(): void {
    const now = Date.now();
    for (const [id, client] of this.#clients) if (!client.waiting && now - client.lastSeen > CLIENT_EXPIRY_MS) this.#clients.delete(id);
  }
}
