import { openAsBlob } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeZip, type ZipSource } from "../src/archive/zip-writer.js";
import { tarHeader } from "../src/archive/tar-writer.js";
import { dockerArchive, layerTar, syntheticImage, tarBuffer } from "./helpers/images.js";
import { totpCode } from "../src/sandbox/auth.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/**
 * What a hostile or careless client sends to the sandbox (issues 18 and 19): nothing it sends
 * may stop the sandbox or hold it up for others. One sandbox for the file, driven over HTTP
 * against the built CLI.
 */

let sandbox: SandboxHandle;
let work: string;
let apps = 0;

beforeAll(async () => {
  // --verbose: the log says when an upload check starts.
  sandbox = await startSandbox({ args: ["--verbose"] });
  work = await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-hostile-"));
});
afterAll(async () => {
  await sandbox?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const MANIFEST = { apiVersion: "v2", version: "1.0.0", provider: { name: "c8y-ms tests" } };

async function createApp(): Promise<{ id: string; name: string }> {
  const name = `hostile-${process.pid % 1000}-${++apps}`;
  const response = await sandbox.fetch("/application/applications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, key: `${name}-key`, type: "MICROSERVICE" }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; name: string };
}

async function zipOf(name: string, entries: ZipSource[], level = 6): Promise<string> {
  const path = join(work, `${name}.zip`);
  await writeZip(path, entries, { level });
  return path;
}

function upload(id: string, zip: string): Promise<Response> {
  return openAsBlob(zip).then((blob) => {
    const form = new FormData();
    form.append("file", blob, "service.zip");
    return sandbox.fetch(`/application/applications/${id}/binaries`, { method: "POST", body: form });
  });
}

async function waitForLog(text: string): Promise<void> {
  while (!sandbox.stderr().includes(text)) await new Promise((resolve) => setTimeout(resolve, 5));
}

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

describe("upload checks run off the server's thread", () => {
  it("answers other requests while a manifest that takes long to check is being checked", async () => {
    const app = await createApp();
    // 20,000 settings with repeated keys: the manifest rules take most of a second on it, without a break.
    const settings = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i % 100}` }));
    const manifest = Buffer.from(JSON.stringify({ ...MANIFEST, name: app.name, settings }));
    const zip = await zipOf("slow-manifest", [{ name: "cumulocity.json", data: manifest }, { name: "image.tar", data: dockerArchive(syntheticImage()) }]);
    let answer: number | undefined;
    const uploaded = upload(app.id, zip).then((response) => {
      answer = response.status;
    });
    await waitForLog("Checking the upload");
    // One request after another while the check runs: on the server's own thread they all wait
    // while the rules run, and the upload's answer comes right after them.
    let answered = 0;
    while (answer === undefined) {
      expect((await sandbox.fetch("/tenant/currentTenant")).status).toBe(200);
      answered++;
    }
    await uploaded;
    expect(answer).toBe(422);
    // About 800 here while the check runs in a worker; fewer than 20 when it ran on the server's thread.
    expect(answered).toBeGreaterThanOrEqual(100);
  });

  it("refuses a zip with hundreds of entries without listing them", async () => {
    const app = await createApp();
    const entries = Array.from({ length: 500 }, (_, i) => ({ name: `junk/${i}`, data: new Uint8Array(0) }));
    const response = await upload(app.id, await zipOf("entries", entries, 0));
    expect(response.status).toBe(422);
    expect(((await response.json()) as { message: string }).message).toBe(
      "Microservice binary is invalid: The zip holds 500 entries; the platform takes exactly cumulocity.json and image.tar (c8y-ms pack writes nothing else).",
    );
  });

  it("refuses an image.tar whose pax size is 1.5 with 422, and serves others meanwhile", async () => {
    const app = await createApp();
    const record = Buffer.from("12 size=1.5\n");
    const pax = tarHeader({ name: "PaxHeader", size: record.length });
    // tarHeader writes files; make this one a pax extension header (typeflag x) and fix its checksum.
    pax[156] = "x".charCodeAt(0);
    pax.fill(0x20, 148, 156);
    pax.write(`${pax.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const layer = Buffer.alloc(1024, 1);
    const image = Buffer.concat([pax, record, Buffer.alloc(512 - record.length), tarHeader({ name: "abc/layer.tar", size: layer.length }), layer, tarBuffer([{ name: "manifest.json", data: "[]" }])]);
    const uploaded = upload(app.id, await zipOf("pax", [{ name: "cumulocity.json", data: Buffer.from(JSON.stringify({ ...MANIFEST, name: app.name })) }, { name: "image.tar", data: image }]));
    await waitForLog("Checking the upload");
    await stillServing();
    const response = await uploaded;
    expect(response.status).toBe(422);
    expect(((await response.json()) as { message: string }).message).toMatch(/^Microservice binary is invalid: /);
    await stillServing();
  });

  it("refuses a manifest nested thousands of levels deep at once", async () => {
    const app = await createApp();
    const deep = `{"name":"${app.name}","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const image = dockerArchive(syntheticImage());
    const response = await upload(app.id, await zipOf("deep", [{ name: "cumulocity.json", data: Buffer.from(deep) }, { name: "image.tar", data: image }]));
    expect(response.status).toBe(422);
    expect(((await response.json()) as { message: string }).message).toContain("more than 100 levels deep");
    await stillServing();
  });
});

describe("guessing passwords and codes", () => {
  it("locks a login after five wrong passwords, refusing even the right one until the lock ends", async () => {
    const wrong = { ...sandbox.reader, password: "not-it" };
    for (let i = 0; i < 5; i++) expect((await sandbox.fetch("/user/currentUser", { as: wrong })).status).toBe(401);
    const locked = await sandbox.fetch("/user/currentUser", { as: "reader" });
    expect(locked.status).toBe(401);
    expect(((await locked.json()) as { message: string }).message).toBe(`Too many failed logins for ${sandbox.reader.tenant}/reader; try again in 1 s.`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sandbox.fetch("/user/currentUser", { as: "reader" })).status).toBe(200);
  });

  it("counts wrong TOTP codes like wrong passwords", async () => {
    const login = (code: string) =>
      fetch(`${sandbox.url}/tenant/oauth/token?tenant_id=${sandbox.tfa.tenant}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "PASSWORD", username: sandbox.tfa.user, password: sandbox.tfa.password, tfa_code: code }).toString(),
      });
    const good = totpCode(sandbox.tfa.totpSecret);
    const bad = String((Number(good) + 500_000) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 5; i++) expect((await login(bad)).status).toBe(401);
    const locked = await login(totpCode(sandbox.tfa.totpSecret));
    expect(locked.status).toBe(401);
    expect(((await locked.json()) as { message: string }).message).toMatch(/^Too many failed logins for tfa-user/);
  });
});
