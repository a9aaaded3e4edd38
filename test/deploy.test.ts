import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import { runCli } from "./helpers/cli.js";
import { applicationsNamed, subscriptionsOf, subtenantEnv } from "./helpers/platform-state.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip, type ServiceZipOptions } from "./helpers/service-zip.js";

/**
 * `c8y-ms deploy <zip>` against the sandbox without containers (platform.md §3.4): the
 * application it finds or creates, what it uploads, whom it subscribes, and what a dry run
 * leaves alone. Zips come from test/helpers/service-zip.ts (no container engine needed).
 */

let sandbox: SandboxHandle;
let work: string;
let count = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  work = await mkdtemp(join(tmpdir(), "c8y-ms-deploy-"));
});
afterAll(async () => {
  await sandbox?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const uniqueName = (prefix: string) => `${prefix}-${process.pid % 1000}-${++count}`;

function manifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "2", name, version: "1.0.0", provider: { name: "c8y-ms tests" }, ...extra };
}

async function zipOf(content: Record<string, unknown>, options?: ServiceZipOptions): Promise<string> {
  return makeServiceZip(join(work, `zip-${++count}`), content, options);
}

const appsNamed = (name: string) => applicationsNamed(sandbox, name);
const subscriptions = (tenant: string) => subscriptionsOf(sandbox, tenant);

describe("deploy a zip", () => {
  it("creates the application, uploads, subscribes the current tenant and prints the cli.md document", async () => {
    const name = uniqueName("first");
    const zip = await zipOf(manifest(name, { requiredRoles: ["ROLE_INVENTORY_READ"], roles: ["ROLE_FIRST_READ"] }));
    const run = await runCli(["deploy", zip, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);

    const [app, ...others] = await appsNamed(name);
    expect(others).toEqual([]);
    expect(app).toMatchObject({ key: name, contextPath: name, requiredRoles: ["ROLE_INVENTORY_READ"], roles: ["ROLE_FIRST_READ"], owner: { tenant: { id: sandbox.owner } } });
    expect(app?.activeVersionId).toBeDefined();
    expect(run.json<DeployResult>()).toEqual({
      application: { id: app?.id, name, key: name, contextPath: name },
      version: "1.0.0",
      uploaded: true,
      subscriptions: [{ tenant: sandbox.owner, status: "subscribed" }],
    });
    expect(await subscriptions(sandbox.owner)).toContain(app?.id);
    expect(run.stderr).toContain(`Creating application ${name}`);
    expect(run.stderr).toMatch(/✔ Uploading service\.zip: [\d.]+ kB/);
  });

  it("re-deploys into the same application: a new binary, changed roles, already subscribed", async () => {
    const name = uniqueName("again");
    const first = await runCli(["deploy", await zipOf(manifest(name, { version: "1.0.0-SNAPSHOT" })), "--json"], { env: sandbox.env() });
    expect(first.exitCode, first.stderr).toBe(0);
    const [before] = await appsNamed(name);

    const zip = await zipOf(manifest(name, { version: "1.0.0-SNAPSHOT", requiredRoles: ["ROLE_ALARM_READ"] }), { variant: "b" });
    const second = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(second.exitCode, second.stderr).toBe(0);
    // Without --json stdout is the service's address, for scripts.
    expect(second.stdout.trim()).toBe(`${sandbox.url}/service/${name}`);
    expect(second.stderr).toContain(`Updating the roles of ${name}`);
    expect(second.stderr).toContain(`${sandbox.owner}: already subscribed`);

    const [after, ...others] = await appsNamed(name);
    expect(others).toEqual([]);
    expect(after?.id).toBe(before?.id);
    expect(after?.activeVersionId).not.toBe(before?.activeVersionId);
    expect(after?.requiredRoles).toEqual(["ROLE_ALARM_READ"]);
  });

  it("subscribes each --subscribe-tenant, and --no-subscribe leaves the current tenant out", async () => {
    const name = uniqueName("tenants");
    const [t1 = "", t2 = ""] = sandbox.subtenants;
    const run = await runCli(["deploy", await zipOf(manifest(name)), "--no-subscribe", "--subscribe-tenant", t1, "--subscribe-tenant", t2, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>().subscriptions).toEqual([
      { tenant: t1, status: "subscribed" },
      { tenant: t2, status: "subscribed" },
    ]);
    const [app] = await appsNamed(name);
    expect(await subscriptions(t1)).toContain(app?.id);
    expect(await subscriptions(t2)).toContain(app?.id);
    expect(await subscriptions(sandbox.owner)).not.toContain(app?.id);
  });

  it("takes the name from the file name when the manifest has none, as the platform does", async () => {
    const name = uniqueName("noname");
    const dir = join(work, `named-${count}`);
    const { name: _drop, ...withoutName } = manifest(name);
    const zip = await makeServiceZip(dir, withoutName);
    const renamed = join(dir, `${name}-1.0.0.zip`);
    await import("node:fs/promises").then((fs) => fs.rename(zip, renamed));
    const run = await runCli(["deploy", renamed, "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>().application.name).toBe(name);
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    const name = uniqueName("dry");
    const zip = await zipOf(manifest(name, { requiredRoles: ["ROLE_INVENTORY_READ"] }));
    const run = await runCli(["deploy", zip, "--dry-run", "--subscribe-tenant", sandbox.subtenants[0] ?? "", "--json"], { env: sandbox.env() });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = run.json<DeployResult>();
    expect(result).toMatchObject({ dryRun: true, uploaded: false, subscriptions: [], application: { id: null, name }, plan: { application: "create" } });
    expect(result.plan?.subscribe.map((s) => s.tenant)).toEqual([sandbox.owner, sandbox.subtenants[0]]);
    expect(result.plan?.upload.bytes).toBeGreaterThan(0);
    expect(run.stderr).toContain("Dry run: nothing was changed on the platform.");
    expect(run.stderr).toContain(`create application ${name}`);
    expect(await appsNamed(name)).toEqual([]);

    // Against an existing application the plan says what is already in place.
    expect((await runCli(["deploy", zip], { env: sandbox.env() })).exitCode).toBe(0);
    const [before] = await appsNamed(name);
    const again = await runCli(["deploy", zip, "--dry-run", "--json"], { env: sandbox.env() });
    expect(again.json<DeployResult>().plan).toMatchObject({ application: "keep", subscribe: [{ tenant: sandbox.owner, already: true }] });
    const [after] = await appsNamed(name);
    expect(after?.activeVersionId).toBe(before?.activeVersionId);
  });
});

describe("deploy failures", () => {
  it("a zip the platform would refuse fails the local check with exit 3 and creates nothing", async () => {
    const name = uniqueName("broken");
    const zip = await zipOf(manifest(name), { omit: ["image.tar"] });
    const run = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("The zip has no image.tar.");
    expect(await appsNamed(name)).toEqual([]);
  });

  it("a zip that fails its check never lands in an existing application, though the check runs beside the upload", async () => {
    const name = uniqueName("guarded");
    expect((await runCli(["deploy", await zipOf(manifest(name, { version: "1.0.0-SNAPSHOT" }))], { env: sandbox.env() })).exitCode).toBe(0);
    const [before] = await appsNamed(name);
    const run = await runCli(["deploy", await zipOf(manifest(name, { version: "1.0.0-SNAPSHOT" }), { omit: ["image.tar"] })], { env: sandbox.env() });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("would be refused by the platform: 1 problem found.");
    expect(run.stderr).toContain("The zip has no image.tar.");
    const [after] = await appsNamed(name);
    expect(after?.activeVersionId).toBe(before?.activeVersionId);
  });

  it("a zip over the size limit is refused before anything is sent (exit 3)", async () => {
    const name = uniqueName("toolarge");
    const run = await runCli(["deploy", await zipOf(manifest(name)), "--size-limit", "1000"], { env: sandbox.env() });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/service\.zip has \d+ bytes; the platform accepts at most 1000 bytes\./);
    expect(run.stderr).toContain("--size-limit");
    expect(await appsNamed(name)).toEqual([]);
  });

  it("an invalid manifest in the zip is exit 3 with its place", async () => {
    const zip = await zipOf(manifest("Bad_Name"));
    const run = await runCli(["deploy", zip], { env: sandbox.env() });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("!cumulocity.json:");
    expect(run.stderr).toContain("/name");
  });

  it("the platform's 422 is shown verbatim with exit 1, and the active version stays", async () => {
    const name = uniqueName("released");
    expect((await runCli(["deploy", await zipOf(manifest(name))], { env: sandbox.env() })).exitCode).toBe(0);
    const [before] = await appsNamed(name);
    // A released version may not change its image (platform.md §1.7): the sandbox answers 422.
    const run = await runCli(["deploy", await zipOf(manifest(name), { variant: "other" })], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("(422): Microservice version 1.0.0 was uploaded before with a different image");
    const [after] = await appsNamed(name);
    expect(after?.activeVersionId).toBe(before?.activeVersionId);
  });

  it("never uploads into an application another tenant owns and subscribed us to", async () => {
    const name = uniqueName("owned");
    const [t1 = ""] = sandbox.subtenants;
    expect((await runCli(["deploy", await zipOf(manifest(name)), "--subscribe-tenant", t1], { env: sandbox.env() })).exitCode).toBe(0);
    const [parentApp] = await appsNamed(name);
    const run = await runCli(["deploy", await zipOf(manifest(name), { variant: "sub" })], { env: subtenantEnv(sandbox, t1) });
    // t1 sees the parent's application but tries to create its own, which the platform refuses.
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("(409)");
    expect(run.stderr).toContain("another tenant may own");
    const [unchanged] = await appsNamed(name);
    expect(unchanged?.activeVersionId).toBe(parentApp?.activeVersionId);
  });

  it("the read-only user gets exit 4 before anything is created", async () => {
    const name = uniqueName("reader");
    const run = await runCli(["deploy", await zipOf(manifest(name))], { env: sandbox.env("reader") });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("ROLE_APPLICATION_MANAGEMENT_ADMIN");
    expect(await appsNamed(name)).toEqual([]);
  });

  it("a dry run by the read-only user says the deploy would fail, with exit 4", async () => {
    const name = uniqueName("dryreader");
    const run = await runCli(["deploy", await zipOf(manifest(name)), "--dry-run"], { env: sandbox.env("reader") });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(/✖ A deploy would fail: t\d+\/reader lacks the role ROLE_APPLICATION_MANAGEMENT_ADMIN, which creating and uploading need\./);
    expect(run.stderr).toContain("Ask a tenant administrator to grant it");
  });

  it("--wait fails with the platform's reason when nothing will run", async () => {
    const name = uniqueName("nowait");
    const run = await runCli(["deploy", await zipOf(manifest(name)), "--wait", "--timeout", "60"], { env: sandbox.env() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${name} will not come up: the platform runs no instance of it`);
    expect(run.stderr).toContain("--no-containers");
    expect(run.stderr).toMatch(new RegExp(`The upload landed: ${name} 1\\.0\\.0 \\(application \\d+\\) is on the platform and subscribed; only the wait failed\\.`));
    const json = await runCli(["deploy", await zipOf(manifest(name)), "--wait", "--timeout", "60", "--json"], { env: sandbox.env() });
    expect(json.exitCode).toBe(1);
    expect(json.json<{ error: { code: string; hint: string } }>().error).toMatchObject({ code: "SERVICE_NOT_UP", hint: expect.stringContaining("The upload landed") });
  });

  it("a path that is neither a directory nor a zip is a usage error", async () => {
    const run = await runCli(["deploy", join(work, "missing.zip")], { env: sandbox.env() });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("does not exist");
  });
});
