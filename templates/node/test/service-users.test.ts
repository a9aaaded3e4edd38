import assert from "node:assert/strict";
import { test } from "node:test";
import type { Credentials } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { REFRESH_INTERVAL_MS, subscribedServiceUsers, TENANT_RECHECK_MS } from "../src/service-users.js";

const t100: Credentials = { tenant: "t100", user: "service_my-service", password: "one" };
const t200: Credentials = { tenant: "t200", user: "service_my-service", password: "two" };

function recordingLogger() {
  const lines: string[] = [];
  return { lines, log: createLogger((line) => lines.push(line)) };
}

test("concurrent requests for an unknown tenant share one read of the subscriptions", async () => {
  let reads = 0;
  const { log } = recordingLogger();
  const users = subscribedServiceUsers(async () => {
    reads++;
    return [t100];
  }, log);
  const results = await Promise.all([users.forTenant("t100"), users.forTenant("t100"), users.forTenant("t100")]);
  users.stop();
  assert.deepEqual(results, [t100, t100, t100]);
  assert.equal(reads, 1);
});

test("a tenant that is not subscribed makes the list be read again at most every TENANT_RECHECK_MS", async () => {
  let reads = 0;
  let clock = 1_000_000;
  const { log } = recordingLogger();
  const users = subscribedServiceUsers(async () => {
    reads++;
    return [t100];
  }, log, REFRESH_INTERVAL_MS, () => clock);
  assert.equal(await users.forTenant("t100"), t100);
  const atStart = reads;
  assert.equal(await users.forTenant("t999"), undefined);
  assert.equal(await users.forTenant("t999"), undefined);
  assert.equal(await users.forTenant("t999", { reload: true }), undefined);
  assert.equal(reads, atStart + 1, "one read for three requests");
  clock += TENANT_RECHECK_MS;
  assert.equal(await users.forTenant("t999"), undefined);
  assert.equal(reads, atStart + 2, "asked again once the pause is over");
  users.stop();
});

test("the list is read again every interval, and changes are logged without passwords", async () => {
  let list = [t100];
  const { lines, log } = recordingLogger();
  const users = subscribedServiceUsers(async () => list, log, 20);
  assert.deepEqual(await users.forTenant("t100"), t100);
  list = [t100, t200];
  await new Promise((resolve) => setTimeout(resolve, 60));
  users.stop();
  assert.ok(lines.some((l) => l.includes("INFO Subscribed tenants: t100, t200")), lines.join(""));
  assert.ok(!lines.some((l) => l.includes("one") || l.includes("two")), "no password in the log");
});

test("a failed read keeps the tenants already known", async () => {
  let fail = false;
  const { lines, log } = recordingLogger();
  const users = subscribedServiceUsers(async () => {
    if (fail) throw new Error("connect ECONNREFUSED");
    return [t100];
  }, log);
  assert.deepEqual(await users.forTenant("t100"), t100);
  fail = true;
  assert.equal(await users.forTenant("t200"), undefined);
  assert.deepEqual(await users.forTenant("t100", { reload: true }), t100);
  users.stop();
  assert.ok(lines.some((l) => l.includes("WARN Could not read the service users (connect ECONNREFUSED); keeping the 1 known.")), lines.join(""));
});
