import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { createApplication, subscriptionsOf } from "./helpers/platform-state.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/** `c8y-ms delete` (platform.md §3.3 #11): never without a confirmation, which CI gives with --yes. */

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

const createApp = () => createApplication(sandbox, "del");
const exists = async (id: string) => (await sandbox.fetch(`/application/applications/${id}`)).status === 200;

describe("delete", () => {
  it("without a terminal and without --yes asks for --yes (exit 2) and deletes nothing", async () => {
    const app = await createApp();
    const run = await runCli(["delete", app.name], { env: sandbox.env() });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--yes");
    expect(await exists(app.id)).toBe(true);
  });

  it("with --yes deletes the application, subscribed tenants included", async () => {
    const app = await createApp();
    const [t1 = ""] = sandbox.subtenants;
    expect((await runCli(["subscribe", app.name, sandbox.owner, t1], { env: sandbox.env() })).exitCode).toBe(0);
    const run = await runCli(["delete", app.name, "--yes", "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json()).toEqual({ application: { id: app.id, name: app.name }, deleted: true });
    expect(await exists(app.id)).toBe(false);
    expect(await subscriptionsOf(sandbox, t1)).not.toContain(app.id);
  });

  it("the read-only user may not delete (exit 4)", async () => {
    const app = await createApp();
    const run = await runCli(["delete", app.name, "--yes"], { env: sandbox.env("reader") });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("ROLE_APPLICATION_MANAGEMENT_ADMIN");
    expect(await exists(app.id)).toBe(true);
  });

  it("an unknown name is exit 1", async () => {
    const run = await runCli(["delete", "never-deployed", "--yes"], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("has no application named never-deployed");
  });
});
