import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BasicAuth, Client } from "@c8y/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/**
 * Notifications 2.0 against the sandbox (the frame as go-c8y's notification2 test has it,
 * test/fixtures/platform/notification2/consumer-frame.txt) with the documented wire protocol (@c8y/client has
 * no Notifications 2.0 consumer): `ws` as the client, messages as the platform's consumers
 * read them (ack id, source path, action, blank line, JSON body), acknowledgements, and
 * redelivery of what was not acknowledged, also across a restart of the same data directory.
 */

let dataDir: string;
let sandbox: SandboxHandle;
let client: Client;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-notifications-"));
  sandbox = await startSandbox({ dataDir });
  client = new Client(new BasicAuth({ tenant: sandbox.admin.tenant, user: sandbox.admin.user, password: sandbox.admin.password }), sandbox.url);
});
afterAll(async () => {
  await sandbox?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Notification {
  ack: string;
  source: string;
  action: string;
  body: string;
}

/** Parses a message the way the vendor's example consumers do: header lines up to the first blank line, then the body. */
function parse(text: string): Notification {
  const split = text.indexOf("\n\n");
  const [ack = "", source = "", action = ""] = text.slice(0, split).split("\n");
  return { ack, source, action, body: text.slice(split + 2) };
}

/** A consumer that keeps every message; `next` waits (bounded) for the one after those already taken. */
async function connect(token: string) {
  const socket = new WebSocket(`${sandbox.url.replace("http", "ws")}/notification2/consumer/?token=${encodeURIComponent(token)}`);
  const received: Notification[] = [];
  let taken = 0;
  socket.on("message", (data) => received.push(parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return {
    received,
    async next(): Promise<Notification> {
      for (let waited = 0; received.length <= taken; waited += 20) {
        if (waited > 10_000) throw new Error(`No notification after ${taken}; got ${JSON.stringify(received)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received[taken++] as Notification;
    },
    ack: (n: Notification) => socket.send(n.ack),
    close: () => new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.close();
    }),
  };
}

async function post(path: string, body: unknown): Promise<Record<string, any>> {
  const response = await sandbox.fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return (await response.json()) as Record<string, any>;
}

const token = async (subscription: string, subscriber: string, extra: Record<string, unknown> = {}) =>
  (await post("/notification2/token", { subscription, subscriber, ...extra })).token as string;

describe("Notifications 2.0", () => {
  it("delivers create, update and delete of a device's data in the platform's format", async () => {
    const { data: mo } = await client.inventory.create({ name: "Watched", c8y_IsDevice: {} });
    const subscription = await post("/notification2/subscriptions", {
      context: "mo",
      subscription: "watched",
      source: { id: mo.id },
      subscriptionFilter: { apis: ["measurements", "managedobjects"] },
    });
    expect(subscription).toMatchObject({ context: "mo", subscription: "watched", source: { id: mo.id }, subscriptionFilter: { apis: ["measurements", "managedobjects"] } });
    const consumer = await connect(await token("watched", "tester"));

    const { data: measurement } = await client.measurement.create({ sourceId: mo.id, type: "c8y_T", c8y_T: { T: { value: 1, unit: "C" } } });
    const created = await consumer.next();
    expect(created).toMatchObject({ source: `/${sandbox.owner}/measurements/${measurement.id}`, action: "CREATE" });
    expect(JSON.parse(created.body)).toMatchObject({ id: measurement.id, type: "c8y_T", source: { id: mo.id } });

    await client.inventory.update({ id: mo.id, c8y_Note: { text: "changed" } });
    const updated = await consumer.next();
    expect(updated).toMatchObject({ source: `/${sandbox.owner}/managedobjects/${mo.id}`, action: "UPDATE" });
    expect(JSON.parse(updated.body)).toMatchObject({ id: mo.id, c8y_Note: { text: "changed" } });

    // An event is not among the subscribed APIs.
    await client.event.create({ source: { id: mo.id }, type: "e", text: "t", time: new Date().toISOString() });
    await client.measurement.delete(measurement.id);
    const deleted = await consumer.next();
    expect(deleted).toMatchObject({ source: `/${sandbox.owner}/measurements/${measurement.id}`, action: "DELETE", body: measurement.id });
    expect(new Set([created.ack, updated.ack, deleted.ack]).size).toBe(3);
    await consumer.close();
  });

  it("redelivers what was not acknowledged when the subscriber reconnects, and what arrived while it was away", async () => {
    const { data: mo } = await client.inventory.create({ name: "Acked", c8y_IsDevice: {} });
    await post("/notification2/subscriptions", { context: "mo", subscription: "acked", source: { id: mo.id }, subscriptionFilter: { apis: ["alarms"] } });
    const credentials = await token("acked", "worker");
    const first = await connect(credentials);
    const raise = (type: string) => client.alarm.create({ source: { id: mo.id }, type, text: type, severity: "MINOR", time: new Date().toISOString() } as never);
    await raise("a1");
    await raise("a2");
    const one = await first.next();
    const two = await first.next();
    first.ack(one);
    // The acknowledgement is a message on the socket; a round trip through the API orders it before the close.
    await client.alarm.list({ source: mo.id });
    await first.close();
    await raise("a3");

    const second = await connect(credentials);
    const again = await second.next();
    const away = await second.next();
    expect(again).toEqual(two);
    expect(JSON.parse(away.body)).toMatchObject({ type: "a3" });
    expect(second.received.map((n) => n.ack)).not.toContain(one.ack);
    second.ack(again);
    second.ack(away);
    await client.alarm.list({ source: mo.id });
    await second.close();
  });

  it("filters by type in the tenant context, and a non-persistent subscriber gets only what happens while it listens", async () => {
    await post("/notification2/subscriptions", { context: "tenant", subscription: "tenantAlarms", subscriptionFilter: { apis: ["alarms"], typeFilter: "c8y_Wanted" } });
    const { data: mo } = await client.inventory.create({ name: "Anywhere", c8y_IsDevice: {} });
    const consumer = await connect(await token("tenantAlarms", "tenantWide"));
    const raise = (type: string) => client.alarm.create({ source: { id: mo.id }, type, text: type, severity: "MINOR", time: new Date().toISOString() } as never);
    await raise("c8y_Other");
    await raise("c8y_Wanted");
    const wanted = await consumer.next();
    expect(wanted.action).toBe("CREATE");
    const alarm = JSON.parse(wanted.body);
    expect(alarm).toMatchObject({ type: "c8y_Wanted", source: { id: mo.id } });
    expect(wanted.source).toBe(`/${sandbox.owner}/alarms/${alarm.id}`);
    expect(consumer.received).toHaveLength(1);
    await consumer.close();

    await post("/notification2/subscriptions", { context: "mo", subscription: "live", source: { id: mo.id }, nonPersistent: true, subscriptionFilter: { apis: ["events"] } });
    const liveToken = await token("live", "viewer", { nonPersistent: true });
    const event = (text: string) => client.event.create({ source: { id: mo.id }, type: "e", text, time: new Date().toISOString() });
    const live = await connect(liveToken);
    await event("seen");
    expect(JSON.parse((await live.next()).body).text).toBe("seen");
    await live.close();
    await event("missed");
    const back = await connect(liveToken);
    await event("seen again");
    expect(JSON.parse((await back.next()).body).text).toBe("seen again");
    expect(back.received).toHaveLength(1);
    await back.close();
  });

  it("lets the consumers of a shared token take turns", async () => {
    const { data: mo } = await client.inventory.create({ name: "Shared", c8y_IsDevice: {} });
    await post("/notification2/subscriptions", { context: "mo", subscription: "shared", source: { id: mo.id }, subscriptionFilter: { apis: ["events"] } });
    const shared = await token("shared", "pool", { shared: true });
    const [one, two] = [await connect(shared), await connect(shared)];
    for (const text of ["first", "second"]) await client.event.create({ source: { id: mo.id }, type: "e", text, time: new Date().toISOString() });
    const texts = [JSON.parse((await one.next()).body).text, JSON.parse((await two.next()).body).text];
    expect(texts.sort()).toEqual(["first", "second"]);
    await one.close();
    await two.close();
  });

  it("refuses a consumer without a valid token (401), subscriptions of unknown objects (404) and APIs the context has not (422)", async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${sandbox.url.replace("http", "ws")}/notification2/consumer/?token=forged`);
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => resolve(101));
    });
    expect(status).toBe(401);
    const create = (body: unknown) => sandbox.fetch("/notification2/subscriptions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await create({ context: "mo", subscription: "ghost", source: { id: "99999999" } })).status).toBe(404);
    expect((await create({ context: "tenant", subscription: "bad", subscriptionFilter: { apis: ["measurements"] } })).status).toBe(422);
    expect((await sandbox.fetch("/notification2/subscriptions", { as: "reader" })).status).toBe(403);
  });

  it("keeps the data and an unacknowledged notification across a restart of the same data directory", async () => {
    const { data: mo } = await client.inventory.create({ name: "Durable", c8y_IsDevice: {} });
    await client.identity.create({ type: "c8y_Serial", externalId: "durable-1", managedObject: { id: mo.id } });
    await post("/notification2/subscriptions", { context: "mo", subscription: "durable", source: { id: mo.id }, subscriptionFilter: { apis: ["measurements"] } });
    const credentials = await token("durable", "survivor");
    const before = await connect(credentials);
    await client.measurement.create({ sourceId: mo.id, type: "c8y_T", c8y_T: { T: { value: 7, unit: "C" } } });
    const pending = await before.next();
    await before.close();

    await sandbox.stop();
    sandbox = await startSandbox({ dataDir });
    client = new Client(new BasicAuth({ tenant: sandbox.admin.tenant, user: sandbox.admin.user, password: sandbox.admin.password }), sandbox.url);

    expect((await client.inventory.detail(mo.id)).data.name).toBe("Durable");
    expect((await client.identity.detail({ type: "c8y_Serial", externalId: "durable-1" })).data.managedObject?.id).toBe(mo.id);
    const after = await connect(credentials);
    expect(await after.next()).toEqual(pending);
    await after.close();
  });
});

describe("real-time notifications (CometD) through @c8y/client's Realtime", () => {
  it("delivers measurements, alarms and managed object changes on their channels, with realtimeAction", async () => {
    const { data: mo } = await client.inventory.create({ name: "Live", c8y_IsDevice: {} });
    const received: { channel: string; data: { realtimeAction: string; data: any } }[] = [];
    const channels = [`/measurements/${mo.id}`, "/alarms/*", `/managedobjects/${mo.id}`];
    // Nothing is published before the server confirmed every subscription (Realtime keeps its
    // CometD instance protected; its listeners are the only way to see the confirmations).
    const cometd = (client.realtime as unknown as { cometd: { addListener(channel: string, listener: (reply: { successful: boolean }) => void): unknown } }).cometd;
    const confirmed = new Promise<void>((resolve) => {
      let count = 0;
      cometd.addListener("/meta/subscribe", (reply) => {
        if (reply.successful && ++count === channels.length) resolve();
      });
    });
    const handles = channels.map((channel) => client.realtime.subscribe(channel, (message: any) => received.push(message)));
    await confirmed;
    const waitFor = async (count: number) => {
      for (let waited = 0; received.length < count; waited += 20) {
        if (waited > 10_000) throw new Error(`Got only ${JSON.stringify(received)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const { data: measurement } = await client.measurement.create({ sourceId: mo.id, type: "c8y_T", c8y_T: { T: { value: 5, unit: "C" } } });
    await waitFor(1);
    expect(received[0]).toMatchObject({ channel: `/measurements/${mo.id}`, data: { realtimeAction: "CREATE", data: { id: measurement.id } } });
    await client.alarm.create({ source: { id: mo.id }, type: "c8y_Rt", text: "rt", severity: "MINOR", time: new Date().toISOString() } as never);
    await client.inventory.update({ id: mo.id, c8y_Seen: {} });
    await waitFor(3);
    expect(received.slice(1).map((m) => [m.channel, m.data.realtimeAction])).toEqual([
      [`/alarms/${mo.id}`, "CREATE"],
      [`/managedobjects/${mo.id}`, "UPDATE"],
    ]);
    for (const handle of handles) client.realtime.unsubscribe(handle);
    client.realtime.disconnect();
  });
});
