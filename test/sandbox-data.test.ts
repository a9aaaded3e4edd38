import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BasicAuth, Client, EventBinaryService, type IManagedObject } from "@c8y/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { platformFixture } from "./helpers/platform-fixtures.js";
import { makeServiceZip } from "./helpers/service-zip.js";
import { startSandbox, type SandboxHandle, type SandboxUser } from "./helpers/sandbox.js";
import { formatShapeDifferences, shapeDifferences, type ShapeOptions } from "./helpers/shape.js";

/**
 * The sandbox's data APIs judged by the vendor's own client: @c8y/client's services drive
 * inventory, identity, measurements, events (with attachments), alarms, operations and tenant
 * options against the built CLI's sandbox, and what they get back must be what the
 * documentation promises. No containers.
 */

let sandbox: SandboxHandle;
let client: Client;

const clientFor = (user: SandboxUser) => new Client(new BasicAuth({ tenant: user.tenant, user: user.user, password: user.password }), sandbox.url);
const json = async (response: Response) => (await response.json()) as Record<string, any>;
/** The error body of a failed @c8y/client call (it throws `{res, data}`). */
async function failure(promise: Promise<unknown>): Promise<{ status: number; data: Record<string, any> }> {
  try {
    await promise;
  } catch (error) {
    const { res, data } = error as { res: Response; data: Record<string, any> };
    return { status: res.status, data };
  }
  throw new Error("The call succeeded where it should have failed.");
}

beforeAll(async () => {
  sandbox = await startSandbox();
  client = clientFor(sandbox.admin);
});
afterAll(async () => {
  await sandbox?.stop();
});

async function device(name: string, extra: Partial<IManagedObject> = {}): Promise<IManagedObject> {
  const { data, res } = await client.inventory.create({ name, c8y_IsDevice: {}, ...extra });
  expect(res.status).toBe(201);
  return data;
}

describe("inventory through @c8y/client's InventoryService", () => {
  it("creates, reads, merges fragments on update (null removes one) and deletes", async () => {
    const created = await device("Pump A", { type: "c8y_Pump", c8y_Hardware: { serialNumber: "A-1" }, c8y_Notes: { text: "x" } });
    expect(created).toMatchObject({ name: "Pump A", type: "c8y_Pump", owner: sandbox.admin.user, c8y_IsDevice: {}, c8y_Hardware: { serialNumber: "A-1" } });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.self).toBe(`${sandbox.url}/inventory/managedObjects/${created.id}`);
    expect(created.childDevices).toEqual({ self: `${created.self}/childDevices`, references: [] });

    const { data: updated } = await client.inventory.update({ id: created.id, c8y_Notes: null, c8y_Position: { lat: 1, lng: 2 } } as Partial<IManagedObject>);
    expect(updated.c8y_Notes).toBeUndefined();
    expect(updated).toMatchObject({ name: "Pump A", c8y_Hardware: { serialNumber: "A-1" }, c8y_Position: { lat: 1, lng: 2 } });
    expect(Date.parse(String(updated.lastUpdated))).toBeGreaterThanOrEqual(Date.parse(String(created.lastUpdated)));

    const { data: read } = await client.inventory.detail(created.id);
    expect(read.c8y_Position).toEqual({ lat: 1, lng: 2 });

    const { res } = await client.inventory.delete(created.id);
    expect(res.status).toBe(204);
    const gone = await failure(client.inventory.detail(created.id));
    expect(gone).toMatchObject({ status: 404, data: { error: "inventory/Not Found" } });
  });

  it("links child devices and assets, shows both sides, finds by bygroupid and childDeviceId, and deletes a hierarchy with cascade", async () => {
    const group = (await client.inventory.create({ name: "Hall 1", type: "c8y_DeviceGroup", c8y_IsDeviceGroup: {} })).data;
    const gateway = await device("Gateway");
    const sensor = await device("Sensor");
    await client.inventory.childAssetsAdd(gateway.id, group.id);
    const { data: child, res } = await client.inventory.childDevicesAdd(sensor.id, gateway.id);
    expect(res.status).toBe(201);
    expect(child.id).toBe(sensor.id);

    const { data: children } = await client.inventory.childDevicesList(gateway.id);
    expect(children.map((c) => c.id)).toEqual([sensor.id]);
    const { data: parentView } = await client.inventory.detail(gateway.id);
    expect(parentView.childDevices.references.map((r: any) => r.managedObject.id)).toEqual([sensor.id]);
    expect(parentView.assetParents.references.map((r: any) => r.managedObject.id)).toEqual([group.id]);
    const { data: sensorView } = await client.inventory.detail(sensor.id);
    expect(sensorView.deviceParents.references.map((r: any) => r.managedObject.id)).toEqual([gateway.id]);

    const { data: inGroup } = await client.inventory.listQuery({ __bygroupid: group.id });
    expect(inGroup.map((mo) => mo.id)).toEqual([gateway.id]);
    const { data: parents } = await client.inventory.list({ childDeviceId: sensor.id });
    expect(parents.map((mo) => mo.id)).toEqual([gateway.id]);

    const loop = await failure(client.inventory.childDevicesAdd(gateway.id, sensor.id));
    expect(loop.status).toBe(422);

    await client.inventory.delete(group.id, { cascade: true });
    for (const id of [group.id, gateway.id, sensor.id]) expect((await failure(client.inventory.detail(id))).status).toBe(404);
  });

  it("queries by type, fragmentType, owner, text and ids, with the query language, device queries, paging in SQL and totals", async () => {
    const prefix = `Q${Date.now()}`;
    const made = [] as IManagedObject[];
    for (let i = 0; i < 7; i++) made.push(await device(`${prefix}-${i}`, { type: `${prefix}_type`, level: i }));
    await client.inventory.create({ name: `${prefix}-asset`, type: `${prefix}_type` });

    const { data: byType, paging } = await client.inventory.list({ type: `${prefix}_type`, pageSize: 3, withTotalPages: true, withTotalElements: true });
    expect(byType.map((mo) => mo.name)).toEqual([`${prefix}-0`, `${prefix}-1`, `${prefix}-2`]);
    expect(paging?.totalPages).toBe(3);
    const page2 = await paging?.next();
    expect(page2?.data.map((mo) => mo.name)).toEqual([`${prefix}-3`, `${prefix}-4`, `${prefix}-5`]);

    const { data: devices } = await client.inventory.listQueryDevices({ __filter: { type: `${prefix}_type`, level: { __gt: 4 } }, __orderby: [{ name: -1 }] }, { pageSize: 10 });
    expect(devices.map((mo) => mo.name)).toEqual([`${prefix}-6`, `${prefix}-5`]);
    const { data: wildcard } = await client.inventory.listQuery({ name: `${prefix}-*` }, { pageSize: 20 });
    expect(wildcard).toHaveLength(8);

    const { data: byIds } = await client.inventory.list({ ids: `${made[1]?.id},${made[3]?.id}` });
    expect(byIds.map((mo) => mo.id)).toEqual([made[1]?.id, made[3]?.id]);
    const { data: byText } = await client.inventory.list({ text: `${prefix}-2` });
    expect(byText.map((mo) => mo.id)).toEqual([made[2]?.id]);
    const { data: byFragment } = await client.inventory.list({ fragmentType: "c8y_IsDevice", owner: sandbox.admin.user, type: `${prefix}_type`, pageSize: 100 });
    expect(byFragment).toHaveLength(7);

    const wrong = await failure(client.inventory.listQuery({ __useFilterQueryString: "$filter=(name eq 'x' and)" } as never));
    expect(wrong.status).toBe(422);
  });

  it("keeps tenants apart: a subtenant neither finds nor reads nor uses the owner's objects and measurements", async () => {
    const secret = await device("Owner only");
    const [subtenant = ""] = sandbox.subtenants;
    const other = clientFor(sandbox.subtenantAdmins[subtenant] as SandboxUser);
    expect((await failure(other.inventory.detail(secret.id))).status).toBe(404);
    const { data } = await other.inventory.list({ text: "Owner only" });
    expect(data).toEqual([]);
    await client.measurement.create({ sourceId: secret.id, type: "c8y_T", c8y_T: { T: { value: 1, unit: "C" } } });
    expect((await other.measurement.list({ source: secret.id })).data).toEqual([]);
    // The owner's device is no source in the subtenant.
    expect((await failure(other.measurement.create({ sourceId: secret.id, type: "c8y_T", c8y_T: { T: { value: 1, unit: "C" } } }))).status).toBe(422);
    expect((await failure(other.identity.list(secret.id))).status).toBe(404);
  });

  it("lets the reader read and nothing more (403 with the platform's body)", async () => {
    const reader = clientFor(sandbox.reader);
    const mine = await device("Readable");
    expect((await reader.inventory.detail(mine.id)).data.name).toBe("Readable");
    const refused = await failure(reader.inventory.create({ name: "nope" }));
    expect(refused).toMatchObject({ status: 403, data: { error: "security/Forbidden", message: "Access is denied" } });
  });
});

describe("identity through @c8y/client's IdentityService", () => {
  it("adds external ids, finds the object by type and value, lists them, and drops them with the object", async () => {
    const mo = await device("Registered");
    const serial = `SN-${Date.now()}`;
    const { res, data } = await client.identity.create({ type: "c8y_Serial", externalId: serial, managedObject: { id: mo.id } });
    expect(res.status).toBe(201);
    expect(data).toMatchObject({ type: "c8y_Serial", externalId: serial, managedObject: { id: mo.id } });
    expect((await client.identity.detail({ type: "c8y_Serial", externalId: serial })).data.managedObject?.id).toBe(mo.id);
    expect((await client.identity.list(mo.id)).data.map((e) => e.externalId)).toEqual([serial]);

    const duplicate = await failure(client.identity.create({ type: "c8y_Serial", externalId: serial, managedObject: { id: mo.id } }));
    expect(duplicate).toMatchObject({ status: 409, data: { message: `ID [type=c8y_Serial, value=${serial}] was already bound to different Global ID.` } });

    await client.inventory.delete(mo.id);
    const missing = await failure(client.identity.detail({ type: "c8y_Serial", externalId: serial }));
    expect(missing).toMatchObject({ status: 404, data: { error: "identity/Not Found", message: `External id not found; external id = ID [type=c8y_Serial, value=${serial}]` } });
  });
});

describe("measurements through @c8y/client's MeasurementService", () => {
  it("creates single measurements and collections, queries by source, fragment, series, dates and revert, and deletes by query", async () => {
    const mo = await device("Thermometer");
    const { res, data } = await client.measurement.create({ sourceId: mo.id, type: "c8y_Temperature", time: "2024-01-01T00:00:00.000Z", c8y_Temperature: { T: { value: 20, unit: "C" } } });
    expect(res.status).toBe(201);
    expect(data).toMatchObject({ type: "c8y_Temperature", source: { id: mo.id }, c8y_Temperature: { T: { value: 20, unit: "C" } } });

    const collection = Array.from({ length: 10 }, (_, i) => ({
      source: { id: mo.id },
      type: i % 2 ? "c8y_Humidity" : "c8y_Temperature",
      time: new Date(Date.UTC(2024, 0, 1, 1, i)).toISOString(),
      ...(i % 2 ? { c8y_Humidity: { H: { value: i, unit: "%" } } } : { c8y_Temperature: { T: { value: i, unit: "C" } } }),
    }));
    const posted = await sandbox.fetch("/measurement/measurements", {
      method: "POST",
      headers: { "content-type": "application/vnd.com.nsn.cumulocity.measurementCollection+json", accept: "application/vnd.com.nsn.cumulocity.measurementCollection+json" },
      body: JSON.stringify({ measurements: collection }),
    });
    expect(posted.status).toBe(201);
    expect(posted.headers.get("content-type")).toContain("measurementCollection");
    expect((await json(posted)).measurements).toHaveLength(10);

    const { data: all, paging } = await client.measurement.list({ source: mo.id, pageSize: 20, withTotalElements: true });
    expect(all).toHaveLength(11);
    expect(paging?.totalElements).toBe(11);
    expect(all[0]?.time).toBe("2024-01-01T00:00:00.000Z");
    const { data: humid } = await client.measurement.list({ source: mo.id, valueFragmentType: "c8y_Humidity", valueFragmentSeries: "H", pageSize: 20 });
    expect(humid).toHaveLength(5);
    const { data: window } = await client.measurement.list({ source: mo.id, dateFrom: "2024-01-01T01:02:00Z", dateTo: "2024-01-01T01:05:00Z", revert: true });
    expect(window.map((m) => m.time)).toEqual(["2024-01-01T01:04:00.000Z", "2024-01-01T01:03:00.000Z", "2024-01-01T01:02:00.000Z"]);

    const removed = await sandbox.fetch(`/measurement/measurements?source=${mo.id}&type=c8y_Humidity`, { method: "DELETE" });
    expect(removed.status).toBe(204);
    expect((await client.measurement.list({ source: mo.id, pageSize: 20 })).data).toHaveLength(6);
  });

  it("refuses what the platform refuses: no source/time/type, a series without value, an unknown source", async () => {
    const mo = await device("Strict");
    const post = (body: unknown) =>
      sandbox.fetch("/measurement/measurements", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const missing = await post({ c8y_T: { T: { value: 1 } } });
    expect(missing.status).toBe(422);
    expect(await json(missing)).toMatchObject({ error: "undefined/validationError", message: "Following mandatory fields should be included: source,time,type" });
    expect((await post({ source: { id: mo.id }, time: "2024-01-01T00:00:00Z", type: "t", c8y_T: { T: { unit: "C" } } })).status).toBe(422);
    expect((await post({ source: { id: "99999999999" }, time: "2024-01-01T00:00:00Z", type: "t" })).status).toBe(422);
  });
});

describe("events and attachments through @c8y/client's EventService and EventBinaryService", () => {
  it("creates, updates, queries newest first, attaches a file, downloads it, replaces and deletes it", async () => {
    const mo = await device("Camera");
    const { data: created } = await client.event.create({ source: { id: mo.id }, type: "c8y_Snapshot", text: "snap", time: "2024-02-01T00:00:00.000Z" });
    const event = { ...created, id: String(created.id) };
    await client.event.create({ source: { id: mo.id }, type: "c8y_Snapshot", text: "later", time: "2024-02-02T00:00:00.000Z" });
    const { data: updated } = await client.event.update({ id: event.id, text: "renamed", c8y_Extra: { a: 1 } });
    expect(updated).toMatchObject({ text: "renamed", c8y_Extra: { a: 1 }, time: "2024-02-01T00:00:00.000Z" });
    expect((await client.event.list({ source: mo.id })).data.map((e) => e.text)).toEqual(["later", "renamed"]);

    const binaries = new EventBinaryService(client.core);
    const bytes = Buffer.from("picture bytes \u0000\u00ff");
    const { res, data: binary } = await binaries.upload(bytes, event.id);
    expect(res.status).toBe(201);
    expect(binary).toMatchObject({ length: bytes.length, source: event.id });
    const download = await binaries.download(event.id);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);
    const again = await sandbox.fetch(`/event/events/${event.id}/binaries`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "x" });
    expect(again.status).toBe(409);
    const replaced = await sandbox.fetch(`/event/events/${event.id}/binaries`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "new" });
    expect(replaced.status).toBe(201);
    expect(await (await binaries.download(event.id)).text()).toBe("new");
    expect((await binaries.delete(event.id)).res.status).toBe(204);
    expect((await sandbox.fetch(`/event/events/${event.id}/binaries`)).status).toBe(404);
  });
});

describe("alarms through @c8y/client's AlarmService", () => {
  it("de-duplicates an open alarm of the same source and type, moves through the statuses, counts, and updates in bulk", async () => {
    const mo = await device("Boiler");
    const raise = (time: string, text: string) => client.alarm.create({ source: { id: mo.id }, type: "c8y_Overheat", text, severity: "MAJOR", time } as never);
    const { data: first } = await raise("2024-03-01T00:00:00.000Z", "too hot");
    const { data: second } = await raise("2024-03-01T00:05:00.000Z", "still too hot");
    expect(second).toMatchObject({ id: first.id, count: 2, firstOccurrenceTime: "2024-03-01T00:00:00.000Z", time: "2024-03-01T00:05:00.000Z", text: "too hot", status: "ACTIVE" });

    await client.alarm.update({ id: first.id, status: "ACKNOWLEDGED" } as never);
    expect((await raise("2024-03-01T00:06:00.000Z", "again")).data).toMatchObject({ id: first.id, count: 3, status: "ACKNOWLEDGED" });
    await client.alarm.update({ id: first.id, status: "CLEARED" } as never);
    const { data: fresh } = await raise("2024-03-01T00:07:00.000Z", "back");
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.count).toBe(1);

    await client.alarm.create({ source: { id: mo.id }, type: "c8y_Leak", text: "leak", severity: "CRITICAL", time: "2024-03-01T00:08:00.000Z" } as never);
    expect((await client.alarm.count({ source: mo.id, status: "ACTIVE" })).data).toBe(2);
    const bulk = await client.alarm.updateBulk({ status: "CLEARED" } as never, { source: mo.id, status: "ACTIVE" } as never);
    expect(bulk.status).toBe(200);
    expect((await client.alarm.count({ source: mo.id, resolved: false })).data).toBe(0);
    expect((await client.alarm.list({ source: mo.id, status: "CLEARED", pageSize: 10 })).data).toHaveLength(3);
  });

  it("answers an alarm without severity with the platform's 422", async () => {
    const mo = await device("Quiet");
    const refused = await failure(client.alarm.create({ source: { id: mo.id }, type: "x", text: "y", time: "2024-01-01T00:00:00Z" } as never));
    expect(refused).toMatchObject({ status: 422, data: { error: "undefined/validationError", message: "Following mandatory fields should be included: severity" } });
  });
});

describe("operations through @c8y/client's OperationService", () => {
  it("creates PENDING, moves through EXECUTING to SUCCESSFUL or FAILED, and queries by device, status, fragment and agent", async () => {
    const agent = await device("Agent");
    const child = await device("Child");
    await client.inventory.childDevicesAdd(child.id, agent.id);
    const { data: restart } = await client.operation.create({ deviceId: agent.id, c8y_Restart: {}, description: "restart" } as never);
    expect(restart).toMatchObject({ deviceId: agent.id, status: "PENDING", c8y_Restart: {} });
    const { data: config } = await client.operation.create({ deviceId: child.id, c8y_Configuration: { config: "x" } } as never);

    expect((await client.operation.list({ deviceId: agent.id, status: "PENDING" })).data.map((o) => o.id)).toEqual([restart.id]);
    expect((await client.operation.list({ agentId: agent.id, pageSize: 10 })).data.map((o) => o.id)).toEqual([restart.id, config.id]);
    expect((await client.operation.list({ fragmentType: "c8y_Configuration", deviceId: child.id })).data.map((o) => o.id)).toEqual([config.id]);

    await client.operation.update({ id: restart.id, status: "EXECUTING" } as never);
    expect((await client.operation.update({ id: restart.id, status: "SUCCESSFUL" } as never)).data.status).toBe("SUCCESSFUL");
    const { data: failed } = await client.operation.update({ id: config.id, status: "FAILED", failureReason: "no space" } as never);
    expect(failed).toMatchObject({ status: "FAILED", failureReason: "no space" });
    expect((await failure(client.operation.update({ id: config.id, status: "DONE" } as never))).status).toBe(422);
  });
});

describe("tenant options through @c8y/client's TenantOptionsService", () => {
  it("creates, reads, updates and deletes options; a credentials. value is shown to others only encrypted, as hex", async () => {
    const options = client.options.tenant;
    const { res } = await options.create({ category: "sandbox-test", key: "mode", value: "fast" });
    expect(res.status).toBe(200);
    await options.create({ category: "sandbox-test", key: "credentials.apiKey", value: "s3cr3t-value" });
    expect((await options.detail({ category: "sandbox-test", key: "mode" })).data.value).toBe("fast");
    const encrypted = (await options.detail({ category: "sandbox-test", key: "credentials.apiKey" })).data.value;
    expect(encrypted).toMatch(/^[0-9a-f]{40,}$/);
    const listed = await (await sandbox.fetch("/tenant/options?pageSize=100")).text();
    expect(listed).not.toContain("s3cr3t-value");
    expect(await json(await sandbox.fetch("/tenant/options/sandbox-test"))).toEqual({ mode: "fast", "credentials.apiKey": encrypted });

    await options.update({ category: "sandbox-test", key: "mode", value: "slow" });
    expect((await options.detail({ category: "sandbox-test", key: "mode" })).data.value).toBe("slow");
    await options.delete({ category: "sandbox-test", key: "mode" });
    expect((await failure(options.detail({ category: "sandbox-test", key: "mode" }))).status).toBe(404);
    expect((await failure(clientFor(sandbox.reader).options.tenant.create({ category: "a", key: "b", value: "c" }))).status).toBe(403);
  });
});

describe("the recorded platform's shapes (test/fixtures/platform)", () => {
  const expectShape = (name: string, actual: unknown, recorded: unknown, options?: ShapeOptions) => {
    const differences = shapeDifferences(actual, recorded, options);
    expect(differences, formatShapeDifferences(name, differences)).toEqual([]);
  };
  /** The recording's own fragments, so the sandbox's answer can carry the same keys. */
  const fragmentsOf = (recorded: Record<string, unknown>, fixed: string[]) => Object.fromEntries(Object.entries(recorded).filter(([key]) => !fixed.includes(key)));

  it("a device, an event, an alarm and an operation come back as recorded", async () => {
    const device = platformFixture("inventory/device.json");
    const { data: mo } = await client.inventory.create(
      fragmentsOf(device, ["id", "self", "owner", "creationTime", "lastUpdated", "childDevices", "childAssets", "childAdditions", "assetParents", "deviceParents", "additionParents"]),
    );
    expectShape("device", (await client.inventory.detail(mo.id)).data, device);

    const event = platformFixture("event/event.json");
    const { data: created } = await client.event.create({ ...fragmentsOf(event, ["id", "self", "creationTime", "source"]), source: { id: mo.id } } as never);
    // lastUpdated is documented for events (OpenAPI Event) and in the recorded notification.
    expectShape("event", (await client.event.detail(String(created.id))).data, event, { extra: ["lastUpdated"] });

    const alarm = platformFixture("alarm/alarm.json");
    const { data: raised } = await client.alarm.create({ ...fragmentsOf(alarm, ["id", "self", "creationTime", "source", "count", "history", "status"]), source: { id: mo.id } } as never);
    // firstOccurrenceTime and lastUpdated are in the recorded de-duplicated alarm.
    expectShape("alarm", (await client.alarm.detail(String(raised.id))).data, alarm, { extra: ["firstOccurrenceTime", "lastUpdated"] });

    const operation = platformFixture("operation/operation.json");
    const { data: queued } = await client.operation.create({ ...fragmentsOf(operation, ["id", "self", "creationTime", "deviceId", "deviceName", "status"]), deviceId: mo.id } as never);
    expectShape("operation", (await client.operation.detail(String(queued.id))).data, operation);
  });
});

describe("a subscribed microservice, as its service user", () => {
  it("has exactly its manifest's requiredRoles, reads its settings from the options over the manifest's defaults, and its status object stays out of device queries", async () => {
    const name = `data-svc-${process.pid % 1000}`;
    const app = await json(
      await sandbox.fetch("/application/applications", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }) }),
    );
    const work = await mkdtemp(join(tmpdir(), "c8y-ms-data-svc-"));
    try {
      const zip = await makeServiceZip(work, {
        apiVersion: "2",
        name,
        version: "1.0.0",
        provider: { name: "c8y-ms tests" },
        requiredRoles: ["ROLE_INVENTORY_READ", "ROLE_MEASUREMENT_ADMIN"],
        settings: [
          { key: "mode", defaultValue: "slow" },
          { key: "threshold", defaultValue: "5" },
        ],
      });
      const form = new FormData();
      form.append("file", new Blob([await readFile(zip)], { type: "application/zip" }), "service.zip");
      expect((await sandbox.fetch(`/application/applications/${app.id}/binaries`, { method: "POST", body: form })).status).toBe(201);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const subscribed = await sandbox.fetch(`/tenant/tenants/${sandbox.owner}/applications`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ application: { id: app.id } }) });
    expect(subscribed.status).toBe(201);
    const bootstrap = await json(await sandbox.fetch(`/application/applications/${app.id}/bootstrapUser`));
    const users = await json(await sandbox.fetch("/application/currentApplication/subscriptions", { as: { tenant: bootstrap.tenant, user: bootstrap.name, password: bootstrap.password } }));
    const serviceUser = users.users.find((u: { tenant: string }) => u.tenant === sandbox.owner);
    const service = clientFor({ tenant: serviceUser.tenant, user: serviceUser.name, password: serviceUser.password });

    const mo = await device("Served");
    expect((await service.inventory.detail(mo.id)).data.name).toBe("Served");
    expect((await failure(service.inventory.create({ name: "not allowed" }))).status).toBe(403);
    expect((await service.measurement.create({ sourceId: mo.id, type: "c8y_T", c8y_T: { T: { value: 3, unit: "C" } } })).res.status).toBe(201);
    expect((await failure(service.alarm.create({ source: { id: mo.id }, type: "x", text: "x", severity: "MINOR", time: new Date().toISOString() } as never))).status).toBe(403);

    // The settings category defaults to the context path, which defaults to the name.
    await client.options.tenant.create({ category: name, key: "mode", value: "fast" });
    await client.options.tenant.create({ category: name, key: "credentials.token", value: "service-secret" });
    const settings = await json(await sandbox.fetch("/application/currentApplication/settings", { as: { tenant: serviceUser.tenant, user: serviceUser.name, password: serviceUser.password } }));
    expect(settings).toEqual({ mode: "fast", threshold: "5", "credentials.token": "service-secret" });
    expect((await client.options.tenant.detail({ category: name, key: "credentials.token" })).data.value).not.toBe("service-secret");

    const status = await json(await sandbox.fetch(`/inventory/managedObjects?type=c8y_Application_${app.id}`));
    expect(status.managedObjects).toHaveLength(1);
    const everything = await json(await sandbox.fetch("/inventory/managedObjects?pageSize=2000"));
    expect(everything.managedObjects.map((o: { type?: string }) => o.type)).not.toContain(`c8y_Application_${app.id}`);
    const devices = await json(await sandbox.fetch("/inventory/managedObjects?fragmentType=c8y_IsDevice&pageSize=2000"));
    expect(devices.managedObjects.map((o: { id: string }) => o.id)).not.toContain(status.managedObjects[0].id);
  });
});
