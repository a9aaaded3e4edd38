import { MockAgent } from "undici";
import { describe, expect, it } from "vitest";
import { CliError } from "../errors.js";
import { Redactor } from "../secrets.js";
import type { Application } from "./applications.js";
import { PlatformClient } from "./client.js";
import { describeStatus, ServiceNotUpError, waitUntilUp, type StatusFragment } from "./status.js";

/** `deploy --wait`: polling the status object (platform.md §3.3 #17) and giving up for the right reasons. */

const ORIGIN = "https://example.cumulocity.com";
const app: Application = { id: "42", name: "svc", key: "svc", type: "MICROSERVICE" };
const STATUS_PATH = "/inventory/managedObjects?type=c8y_Application_42&pageSize=1";

function setup(states: (StatusFragment | undefined)[], logs: Record<string, string> = {}) {
  const mock = new MockAgent();
  mock.disableNetConnect();
  const pool = mock.get(ORIGIN);
  for (const state of states) {
    const objects = state ? [{ id: "9", c8y_Status: state, c8y_SupportedLogs: Object.keys(state.instances ?? {}) }] : [];
    pool.intercept({ path: STATUS_PATH }).reply(200, { managedObjects: objects }, { headers: { "content-type": "application/json" } });
  }
  for (const [instance, text] of Object.entries(logs)) {
    pool
      .intercept({ path: `/application/applications/42/logs/${instance}` })
      .reply(200, { logs: text, truncated: false }, { headers: { "content-type": "application/json" } });
  }
  const client = new PlatformClient({
    connection: {
      baseUrl: new URL(ORIGIN),
      urlFrom: "--url",
      tenant: "t1",
      credentials: { kind: "basic", user: "u", password: "pw-1" },
      source: { kind: "basic", names: ["--user"], principal: "t1/u" },
    },
    dispatcher: mock,
    logger: { warn: () => {}, debug: () => {} },
    redactor: new Redactor(),
    userAgent: "c8y-ms/test",
  });
  let clock = 0;
  const changes: string[] = [];
  const options = {
    timeoutMs: 60_000,
    pollMs: 2_000,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
    onChange: (state: string) => changes.push(state),
  };
  return { client, options, changes };
}

const instance = (ready: boolean, restarts = 0) => ({ running: true, ready, restarts });

describe("waitUntilUp", () => {
  it("polls until Up, reporting each change of state once", async () => {
    const down: StatusFragment = { status: "Down", details: { desired: 1, active: 0 }, instances: { "svc-1": instance(false) } };
    const up: StatusFragment = { status: "Up", details: { desired: 1, active: 1 }, instances: { "svc-1": instance(true) } };
    const { client, options, changes } = setup([undefined, down, down, up]);
    const result = await waitUntilUp(client, app, options);
    expect(result.status).toBe("Up");
    expect(changes).toEqual(["no status yet", "Down (0 of 1 instances ready)", "Up (1 of 1 instances ready)"]);
  });

  it("gives up early when the service keeps restarting, with its last log lines", async () => {
    const crashing: StatusFragment = { status: "Down", details: { desired: 1, active: 0 }, instances: { "svc-1": instance(false, 3) } };
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n");
    const { client, options } = setup([crashing], { "svc-1": `${lines}\nError: cannot connect\n` });
    const error = await waitUntilUp(client, app, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNotUpError);
    const notUp = error as CliError;
    expect(notUp.message).toBe("svc keeps restarting (3 restarts): Down (0 of 1 instances ready).");
    expect(notUp.hint).toContain("Last log lines of svc-1:\n  line 12\n");
    expect(notUp.hint).toContain("  Error: cannot connect");
    expect(notUp.hint).not.toContain("line 11\n");
  });

  it("stops waiting when the platform keeps saying nothing is to run", async () => {
    const nothing: StatusFragment = { status: "Unknown", reason: "No tenant is subscribed", details: { desired: 0 } };
    const { client, options } = setup(Array.from({ length: 7 }, () => nothing));
    const error = (await waitUntilUp(client, app, options).catch((e: unknown) => e)) as CliError;
    expect(error.message).toBe("svc will not come up: the platform runs no instance of it (Unknown - No tenant is subscribed).");
  });

  it("times out with the last state", async () => {
    const starting: StatusFragment = { status: "Unhealthy", details: { desired: 2, active: 1 }, instances: { a: instance(true), b: instance(false) } };
    const { client, options } = setup(Array.from({ length: 4 }, () => starting), { a: "ok\n", b: "still starting\n" });
    const error = (await waitUntilUp(client, app, { ...options, timeoutMs: 6_000 }).catch((e: unknown) => e)) as CliError;
    expect(error.message).toBe("svc did not report Up within 6s: Unhealthy (1 of 2 instances ready).");
    expect(error.hint).toContain("Last log lines of b:\n  still starting");
  });
});

describe("describeStatus", () => {
  it("names the state, the ready instances and the platform's reason", () => {
    expect(describeStatus(undefined)).toBe("no status yet");
    expect(describeStatus({ status: "Down", reason: "Loading the image", details: { desired: 1, active: 0 } })).toBe("Down (0 of 1 instances ready) - Loading the image");
    // The caller ends the sentence: a reason's own full stop would make two.
    expect(describeStatus({ status: "Unknown", reason: "The sandbox runs without containers (--no-containers).", details: { desired: 0 } })).toBe(
      "Unknown - The sandbox runs without containers (--no-containers)",
    );
  });
});
