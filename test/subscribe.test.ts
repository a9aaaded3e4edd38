import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { createApplication, subscriptionsOf, subtenantEnv } from "./helpers/platform-state.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * subscribe / unsubscribe against the sandbox (platform.md §3.3 #8–#10), plus how every
 * platform command connects: credentials from env, .env, stdin and tokens, and the failures
 * a user can cause (spec/cli.md exit codes).
 */

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

const createApp = () => createApplication(sandbox, "sub");
const subscriptions = (tenant: string) => subscriptionsOf(sandbox, tenant);

describe("subscribe and unsubscribe", () => {
  it("subscribes the current tenant by default; again is success with status already", async () => {
    const app = await createApp();
    const first = await runCli(["subscribe", app.name, "--json"], { env: sandbox.env() });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json()).toEqual({ application: { id: app.id, name: app.name }, subscriptions: [{ tenant: sandbox.owner, status: "subscribed" }] });
    expect(await subscriptions(sandbox.owner)).toContain(app.id);

    const again = await runCli(["subscribe", app.name, "--json"], { env: sandbox.env() });
    expect(again.exitCode).toBe(0);
    expect(again.json<{ subscriptions: unknown[] }>().subscriptions).toEqual([{ tenant: sandbox.owner, status: "already" }]);
    expect(again.stderr).toContain(`${sandbox.owner}: already subscribed`);
  });

  it("subscribes and unsubscribes several tenants", async () => {
    const app = await createApp();
    const [t1 = "", t2 = ""] = sandbox.subtenants;
    const subscribed = await runCli(["subscribe", app.name, t1, t2, "--json"], { env: sandbox.env() });
    expect(subscribed.exitCode, subscribed.stderr).toBe(0);
    expect(subscribed.json<{ subscriptions: unknown[] }>().subscriptions).toEqual([
      { tenant: t1, status: "subscribed" },
      { tenant: t2, status: "subscribed" },
    ]);
    expect(await subscriptions(t1)).toContain(app.id);
    expect(await subscriptions(t2)).toContain(app.id);

    const unsubscribed = await runCli(["unsubscribe", app.name, t1, "--json"], { env: sandbox.env() });
    expect(unsubscribed.exitCode, unsubscribed.stderr).toBe(0);
    expect(unsubscribed.json<{ subscriptions: unknown[] }>().subscriptions).toEqual([{ tenant: t1, status: "unsubscribed" }]);
    expect(await subscriptions(t1)).not.toContain(app.id);
    expect(await subscriptions(t2)).toContain(app.id);

    const again = await runCli(["unsubscribe", app.name, t1, "--json"], { env: sandbox.env() });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json<{ subscriptions: unknown[] }>().subscriptions).toEqual([{ tenant: t1, status: "already" }]);
  });

  it("still subscribes the good tenants when one id is wrong, then fails naming it", async () => {
    const app = await createApp();
    const [t1 = ""] = sandbox.subtenants;
    const run = await runCli(["subscribe", app.name, "t404404", t1], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Could not subscribe t404404 to ${app.name}; done for ${t1}.`);
    expect(await subscriptions(t1)).toContain(app.id);
  });

  it("an unknown tenant id alone is exit 1 with the platform's message and what to check", async () => {
    const app = await createApp();
    const run = await runCli(["unsubscribe", app.name, "t404404"], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("Tenant with id t404404 not found");
    expect(run.stderr).toMatch(/\n {2}Check the names and tenant ids in the command \(they are case-sensitive\)/);
  });

  it("does not act on an application another tenant owns (landscape.md complaint 10)", async () => {
    const app = await createApp();
    const [t1 = ""] = sandbox.subtenants;
    expect((await runCli(["subscribe", app.name, t1], { env: sandbox.env() })).exitCode).toBe(0);
    const run = await runCli(["unsubscribe", app.name], { env: subtenantEnv(sandbox, t1) });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`The application ${app.name} belongs to tenant ${sandbox.owner}, not to ${t1}`);
    expect(await subscriptions(t1)).toContain(app.id);
  });

  it("an unknown name says so", async () => {
    const run = await runCli(["subscribe", "no-such-service"], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Tenant ${sandbox.owner} has no application named no-such-service.`);
  });
});

describe("connecting (spec/cli.md, Platform connection)", () => {
  it("the read-only user is refused with exit 4 and the role to ask for", async () => {
    const app = await createApp();
    const run = await runCli(["subscribe", app.name], { env: sandbox.env("reader") });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("(403)");
    expect(run.stderr).toContain("ROLE_APPLICATION_MANAGEMENT_ADMIN");
    expect(await subscriptions(sandbox.owner)).not.toContain(app.id);
  });

  it("a wrong password is exit 4 naming the variables to check, and no secret is printed", async () => {
    const run = await runCli(["subscribe", "anything"], { env: { ...sandbox.env(), C8Y_PASSWORD: "wrong-password-123" } });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("Invalid credentials");
    expect(run.stderr).toContain("C8Y_PASSWORD (environment)");
  });

  it("a two-factor user is told to use C8Y_TOKEN", async () => {
    const run = await runCli(["status", "anything"], { env: sandbox.env("tfa") });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("TFA TOTP code required");
    expect(run.stderr).toContain("C8Y_TOKEN");
  });

  it("a bearer token from C8Y_TOKEN works instead of a password", async () => {
    const form = new URLSearchParams({ grant_type: "PASSWORD", username: sandbox.admin.user, password: sandbox.admin.password });
    const response = await fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${sandbox.owner}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const app = await createApp();
    const run = await runCli(["subscribe", app.name, "--json", "--verbose"], { env: { C8Y_HOST: sandbox.url, C8Y_TOKEN: token } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await subscriptions(sandbox.owner)).toContain(app.id);
  });

  it("reads the password from stdin with --password-stdin, and .env supplies the rest", async () => {
    const app = await createApp();
    const cwd = await tempDir({ ".env": `# sandbox\nC8Y_HOST=${sandbox.url}\nexport C8Y_USER="${sandbox.admin.user}"\nC8Y_TENANT=${sandbox.owner}\n` });
    const run = await runCli(["subscribe", app.name, "--password-stdin"], { cwd, input: `${sandbox.admin.password}\n`, env: {}, secrets: [sandbox.admin.password] });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await subscriptions(sandbox.owner)).toContain(app.id);
  });

  it("a password in .env is never printed, not even with --verbose", async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, ".env"), `C8Y_HOST=${sandbox.url}\nC8Y_USER=${sandbox.admin.user}\nC8Y_PASSWORD=${sandbox.admin.password}\n`);
    const app = await createApp();
    const run = await runCli(["subscribe", app.name, "--verbose"], { cwd, env: {}, secrets: [sandbox.admin.password, Buffer.from(`${sandbox.owner}/${sandbox.admin.user}:${sandbox.admin.password}`).toString("base64")] });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/tenant\/currentTenant → 200 \(\d+ ms\)/);
    expect(run.stderr).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/tenant\/tenants\/t\d+\/applications → 201/);
    expect(run.stderr.toLowerCase()).not.toContain("authorization");
  });

  it("missing credentials in CI is exit 4 naming what to set", async () => {
    const run = await runCli(["subscribe", "x"], { env: { C8Y_HOST: sandbox.url, C8Y_USER: "admin" } });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("C8Y_PASSWORD is not set");
  });

  it("a missing URL in CI is exit 2 naming the flag and variable", async () => {
    const run = await runCli(["subscribe", "x"], { env: { C8Y_USER: "admin", C8Y_PASSWORD: "pw-pw-pw" } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--url (or set C8Y_HOST)");
  });

  it("an unreachable host is exit 1 and names the URL and the cause", async () => {
    const run = await runCli(["status", "x"], { env: { ...sandbox.env(), C8Y_HOST: "http://127.0.0.1:9" } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("Could not reach http://127.0.0.1:9/tenant/currentTenant");
    expect(run.stderr).toContain("ECONNREFUSED");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
