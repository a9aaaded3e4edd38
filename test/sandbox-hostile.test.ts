import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/**
 * What a hostile or careless client sends to the sandbox (issues 18 and 19): nothing it sends
 * may stop the sandbox or hold it up for others. One sandbox for the file, driven over HTTP
 * against the built CLI.
 */

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

/** How long the sandbox lets a connection go on sending after an early answer (server.ts LINGER_MS), and a margin. */
const PAST_LINGER_MS = 1500;

async function stillServing(): Promise<void> {
  const response = await sandbox.fetch("/tenant/currentTenant");
  expect(response.status).toBe(200);
}

describe("oversized bodies", () => {
  it.each([
    ["/application/applications", "application/json"],
    ["/tenant/oauth", "application/x-www-form-urlencoded"],
  ])("answer 413 on %s and the sandbox keeps serving after the connection lingered", async (path, type) => {
    const response = await sandbox.fetch(path, { method: "POST", headers: { "content-type": type }, body: "x".repeat(3_000_000) });
    expect(response.status).toBe(413);
    await new Promise((resolve) => setTimeout(resolve, PAST_LINGER_MS));
    await stillServing();
  });
});
