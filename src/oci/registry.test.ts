import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockAgent } from "undici";
import { afterEach, beforeEach, expect, test } from "vitest";
import { Redactor } from "../secrets.js";
import { parseChallenge, RegistryClient, registryCredentials, type RegistryContext } from "./registry.js";
import { parseRegistryReference } from "./reference.js";

let home: string;
let mock: MockAgent;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "c8y-ms-registry-"));
  mock = new MockAgent();
  mock.disableNetConnect();
});
afterEach(async () => {
  await mock.close();
  await rm(home, { recursive: true, force: true });
});

test("challenges as registries write them: quoted values with commas, unquoted ones", () => {
  expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push"')).toEqual({
    scheme: "bearer",
    params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/node:pull,push" },
  });
  expect(parseChallenge("Basic realm=Registry")).toEqual({ scheme: "basic", params: { realm: "Registry" } });
});

test("Basic credentials from ~/.docker/config.json answer a Basic challenge, and are masked", async () => {
  const auth = Buffer.from("robot:s3cret-pass").toString("base64");
  await mkdir(join(home, ".docker"));
  await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: { "registry.example.com": { auth } } }));
  const redactor = new Redactor();
  const credentials = await registryCredentials({ env: { HOME: home }, redactor }, "registry.example.com");
  expect(credentials).toBe(auth);
  expect(redactor.redact("password s3cret-pass")).toBe("password ***");

  const registry = mock.get("https://registry.example.com");
  registry.intercept({ path: "/v2/team/app/manifests/1", method: "GET", headers: (h: Record<string, string>) => !h.authorization }).reply(401, "", { headers: { "www-authenticate": 'Basic realm="r"' } });
  const body = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: {}, layers: [] });
  registry.intercept({ path: "/v2/team/app/manifests/1", method: "GET", headers: { authorization: `Basic ${auth}` } }).reply(200, body, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
  const noop = () => {};
  const ctx = { env: {}, signal: new AbortController().signal, logger: { debug: noop }, redactor, http: { dispatcher: mock, proxyFor: () => undefined } } as unknown as RegistryContext;
  const client = new RegistryClient(parseRegistryReference("registry.example.com/team/app:1"), ctx, credentials);
  expect((await client.manifest("1")).mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
});

test("a manifest that does not hash to the digest asked for is refused", async () => {
  const digest = `sha256:${"0".repeat(64)}`;
  mock.get("https://registry.example.com").intercept({ path: `/v2/team/app/manifests/${digest}`, method: "GET" }).reply(200, "{}");
  const noop = () => {};
  const ctx = { env: {}, signal: new AbortController().signal, logger: { debug: noop }, redactor: new Redactor(), http: { dispatcher: mock, proxyFor: () => undefined } } as unknown as RegistryContext;
  const client = new RegistryClient(parseRegistryReference(`registry.example.com/team/app@${digest}`), ctx, undefined);
  await expect(client.manifest(digest)).rejects.toThrow(/does not match its digest/);
});
