import { openAsBlob } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeServiceZip, type ServiceZipOptions } from "./helpers/service-zip.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/**
 * Upload checks of the sandbox (platform.md §1.6, §1.7, §2, §6.4) with zips made without a
 * container engine; the sandbox runs with --no-containers. Running uploads is the docker test.
 */

const NAME_ERROR = "Microservice application name is incorrect: only lower case letters, digits and dashes allowed. Maximum length: 23.";
const CONTEXT_PATH_ERROR = "Application context path incorrect. Only word characters and /-._~ are allowed";

let sandbox: SandboxHandle;
let work: string;
let zips = 0;
let apps = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  work = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-upload-"));
});
afterAll(async () => {
  await sandbox?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function manifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "v2", name, version: "1.0.0", provider: { name: "c8y-ms tests" }, ...extra };
}

async function zipOf(content: Record<string, unknown> | string, options?: ServiceZipOptions): Promise<string> {
  return makeServiceZip(join(work, `zip-${++zips}`), content, options);
}

async function createApp(extra: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const name = `up-${process.pid % 1000}-${++apps}`;
  const response = await sandbox.fetch("/application/applications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE", ...extra }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; name: string };
}

async function upload(id: string, zip: string, field = "file"): Promise<{ status: number; body: Record<string, any> }> {
  const form = new FormData();
  form.append(field, await openAsBlob(zip), "service.zip");
  const response = await sandbox.fetch(`/application/applications/${id}/binaries`, { method: "POST", body: form });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe("accepted uploads (platform.md §3.3 #7, §6.4)", () => {
  it("answers 201 with the application: a version id, the manifest, its roles and context path", async () => {
    const app = await createApp();
    const zip = await zipOf(manifest(app.name, { requiredRoles: ["ROLE_INVENTORY_READ"], roles: ["ROLE_UP_READ"], contextPath: `${app.name}-api` }));
    const { status, body } = await upload(app.id, zip);
    expect(status).toBe(201);
    expect(body).toMatchObject({
      id: app.id,
      activeVersionId: expect.stringMatching(/^\d+$/),
      requiredRoles: ["ROLE_INVENTORY_READ"],
      roles: ["ROLE_UP_READ"],
      contextPath: `${app.name}-api`,
      manifest: { name: app.name, version: "1.0.0" },
    });
    const stored = (await (await sandbox.fetch(`/application/applications/${app.id}`)).json()) as { activeVersionId: string };
    expect(stored.activeVersionId).toBe(body.activeVersionId);
    const status_ = (await (await sandbox.fetch(`/inventory/managedObjects?type=c8y_Application_${app.id}`)).json()) as { managedObjects: any[] };
    expect(status_.managedObjects).toHaveLength(1);
    expect(status_.managedObjects[0].c8y_Status.status).toBe("Unknown");
    await access(join(sandbox.dataDir, "binaries", app.id, `${body.activeVersionId}.zip`));

    // Deleting the application removes its binaries from the data directory.
    expect((await sandbox.fetch(`/application/applications/${app.id}`, { method: "DELETE" })).status).toBe(204);
    await expect(access(join(sandbox.dataDir, "binaries", app.id))).rejects.toThrow();
  });

  it("takes the file from any part name, like the platform (the bash tool sends `data`)", async () => {
    const app = await createApp();
    expect((await upload(app.id, await zipOf(manifest(app.name)), "data")).status).toBe(201);
  });

  it("uses the application's name when the manifest has none", async () => {
    const app = await createApp();
    const { name: _, ...unnamed } = manifest(app.name);
    expect((await upload(app.id, await zipOf(unnamed))).status).toBe(201);
  });

  it("gives every upload a new version id", async () => {
    const app = await createApp();
    const zip = await zipOf(manifest(app.name));
    const first = await upload(app.id, zip);
    const second = await upload(app.id, zip);
    expect(second.status).toBe(201);
    expect(second.body.activeVersionId).not.toBe(first.body.activeVersionId);
  });
});

describe("version rules (platform.md §1.7)", () => {
  it("refuses a released version again with a different image, and accepts the identical image (rollback)", async () => {
    const app = await createApp();
    const one = await zipOf(manifest(app.name), { variant: "one" });
    const other = await zipOf(manifest(app.name), { variant: "two" });
    expect((await upload(app.id, one)).status).toBe(201);
    const refused = await upload(app.id, other);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: "application/Invalid Data" });
    expect(refused.body.message).toContain("1.0.0");
    expect(refused.body.message).toContain("SNAPSHOT");
    expect((await upload(app.id, one)).status).toBe(201);
  });

  it("always accepts a -SNAPSHOT version, whatever the image", async () => {
    const app = await createApp();
    const snapshot = (variant: string) => zipOf(manifest(app.name, { version: "1.1.0-SNAPSHOT" }), { variant });
    expect((await upload(app.id, await snapshot("one"))).status).toBe(201);
    expect((await upload(app.id, await snapshot("two"))).status).toBe(201);
  });
});

describe("refused uploads: 422 with the platform's texts (platform.md §1.6, §1.7, §2)", () => {
  it("refuses a version that is not SemVer with the platform's exact text", async () => {
    const app = await createApp();
    const { status, body } = await upload(app.id, await zipOf(manifest(app.name, { version: "@project.version@" })));
    expect(status).toBe(422);
    expect(body).toEqual(expect.objectContaining({ error: "application/Invalid Data", message: 'Microservice version string "@project.version@" is not valid, must be correct "semantic version"' }));
  });

  it("refuses a manifest name with upper case letters with the platform's name text", async () => {
    const app = await createApp();
    const { status, body } = await upload(app.id, await zipOf(manifest("My_Service")));
    expect(status).toBe(422);
    expect(body.message).toBe(NAME_ERROR);
  });

  it("refuses a context path with a space with the platform's text", async () => {
    const app = await createApp();
    const { status, body } = await upload(app.id, await zipOf(manifest(app.name, { contextPath: "my path" })));
    expect(status).toBe(422);
    expect(body.message).toBe(CONTEXT_PATH_ERROR);
  });

  it("refuses a probe with whitespace (platform 10.20.478.0)", async () => {
    const app = await createApp();
    const zip = await zipOf(manifest(app.name, { livenessProbe: { httpGet: { path: "/health check" } } }));
    const { status, body } = await upload(app.id, zip);
    expect(status).toBe(422);
    expect(body.message).toContain("(cumulocity.json at /livenessProbe/httpGet/path)");
    expect(body.message).not.toContain(".tmp");
  });

  it("refuses a zip without image.tar, and a file that is not a zip", async () => {
    const app = await createApp();
    const noImage = await upload(app.id, await zipOf(manifest(app.name), { omit: ["image.tar"] }));
    expect(noImage.status).toBe(422);
    expect(noImage.body.message).toContain("image.tar");
    const notZip = await upload(app.id, join(work, `zip-${zips}`, "cumulocity.json"));
    expect(notZip.status).toBe(422);
    expect(notZip.body.message).toMatch(/^Microservice binary is invalid: service\.zip is not a valid zip/);
  });

  it("refuses a manifest that names another microservice", async () => {
    const app = await createApp();
    const { status, body } = await upload(app.id, await zipOf(manifest("someone-else")));
    expect(status).toBe(422);
    expect(body.message).toContain("someone-else");
  });

  it("refuses a context path that another application already uses with 409", async () => {
    const taken = await createApp();
    const app = await createApp();
    const { status } = await upload(app.id, await zipOf(manifest(app.name, { contextPath: taken.name })));
    expect(status).toBe(409);
  });

  it("answers 404 for an application of another tenant", async () => {
    const app = await createApp();
    const form = new FormData();
    form.append("file", await openAsBlob(await zipOf(manifest(app.name))), "service.zip");
    const sub = sandbox.subtenants[0]!;
    const response = await sandbox.fetch(`/application/applications/${app.id}/binaries`, { method: "POST", as: sandbox.subtenantAdmins[sub]!, body: form });
    expect(response.status).toBe(404);
  });
});
