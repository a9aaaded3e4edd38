import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { MockAgent } from "undici";
import { afterEach, beforeEach, expect, test } from "vitest";
import { Redactor } from "../secrets.js";
import { BlobCache, BlobDigestError, sha256 } from "./blob-cache.js";
import { resolveBaseImage, type BaseImageContext } from "./base-image.js";
import { parseImageSource } from "./reference.js";

/**
 * The registry conversation of the distribution spec against undici's MockAgent: a 401 with a
 * Bearer challenge, the token server, an index with several platforms, gzip layers.
 */
const REGISTRY = "https://registry.example.com";
const TOKEN = "token-0123456789";
const layer = Buffer.from("a layer tar would be here".repeat(100));
const stored = gzipSync(layer);
const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: ["PATH=/bin"] }, rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layer)}`] } }));
const digest = (data: Buffer) => `sha256:${sha256(data)}`;
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digest(config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digest(stored), size: stored.length }],
  }),
);
const index = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 10, platform: { os: "linux", architecture: "arm64" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digest(manifest), size: manifest.length, platform: { os: "linux", architecture: "amd64" } },
    ],
  }),
);

let mock: MockAgent;
let dir: string;
let requests: string[];

beforeEach(async () => {
  mock = new MockAgent();
  mock.disableNetConnect();
  dir = await mkdtemp(join(tmpdir(), "c8y-ms-oci-"));
  requests = [];
});
afterEach(async () => {
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

function context(): BaseImageContext {
  const noop = () => {};
  const progress = () => ({ advance: noop, done: noop, fail: noop });
  return {
    env: { HOME: dir },
    signal: new AbortController().signal,
    logger: { debug: noop, info: noop, step: noop, success: noop, warn: noop, error: noop } as unknown as BaseImageContext["logger"],
    redactor: new Redactor(),
    progress: progress as unknown as BaseImageContext["progress"],
    exec: { run: () => Promise.reject(new Error("no engine here")) },
    http: { dispatcher: mock, proxyFor: () => undefined },
  };
}

/** The registry wants a token; the token server hands one out for the pull scope. */
function serveRegistry(layerBytes: Buffer = stored): void {
  const registry = mock.get(REGISTRY);
  const authed = (path: string) => ({ path, method: "GET", headers: { authorization: `Bearer ${TOKEN}` } });
  const record = (path: string) => (opts: { path: string }) => {
    requests.push(opts.path);
    return path;
  };
  const challenge = { "www-authenticate": `Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/node:pull"` };
  registry.intercept({ path: "/v2/team/node/manifests/22", method: "GET", headers: (h: Record<string, string>) => !h.authorization }).reply(401, "", { headers: challenge }).persist();
  mock
    .get("https://auth.example.com")
    .intercept({ path: "/token?service=registry.example.com&scope=repository%3Ateam%2Fnode%3Apull", method: "GET" })
    .reply(200, (opts) => record("token")(opts) && JSON.stringify({ token: TOKEN }))
    .persist();
  registry.intercept(authed("/v2/team/node/manifests/22")).reply(200, (opts) => record("m")(opts) && index, { headers: { "content-type": "application/vnd.oci.image.index.v1+json" } }).persist();
  registry.intercept(authed(`/v2/team/node/manifests/${digest(manifest)}`)).reply(200, (opts) => record("m")(opts) && manifest, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } }).persist();
  registry.intercept(authed(`/v2/team/node/blobs/${digest(config)}`)).reply(200, (opts) => record("c")(opts) && config).persist();
  // Blobs live in storage elsewhere: a redirect, to be followed without our token.
  registry.intercept(authed(`/v2/team/node/blobs/${digest(stored)}`)).reply(307, (opts) => record("l")(opts) && "", { headers: { location: "https://storage.example.com/blob?sig=1" } }).persist();
  mock.get("https://storage.example.com").intercept({ path: "/blob?sig=1", method: "GET", headers: (h: Record<string, string>) => !h.authorization }).reply(200, (opts) => record("s")(opts) && layerBytes).persist();
}

test("token auth, the linux/amd64 entry of an index, gzip layers cached by diff id; the second time no request at all", async () => {
  serveRegistry();
  const cache = new BlobCache(join(dir, "cache"));
  const source = parseImageSource("registry.example.com/team/node:22");
  const first = await resolveBaseImage(source, cache, { refresh: false }, context());
  expect(first).toMatchObject({ id: digest(config), fetched: stored.length, source: "registry.example.com/team/node:22" });
  expect(await cache.has(`sha256:${sha256(layer)}`)).toBe(true);
  expect(requests.length).toBeGreaterThan(0);

  requests = [];
  const second = await resolveBaseImage(source, cache, { refresh: false }, context());
  expect(second).toMatchObject({ id: digest(config), fetched: 0 });
  expect(requests).toEqual([]);

  // --no-cache looks the tag up again, but the layer is already there.
  const refreshed = await resolveBaseImage(source, cache, { refresh: true }, context());
  expect(refreshed.fetched).toBe(0);
  expect(requests.filter((r) => r.includes("/blobs/"))).toEqual([]);
});

test("a layer whose bytes do not match its digest is refused and nothing is cached", async () => {
  const tampered = gzipSync(Buffer.from("something else".repeat(100)));
  serveRegistry(Buffer.concat([tampered, Buffer.alloc(stored.length - tampered.length)]).subarray(0, stored.length));
  const cache = new BlobCache(join(dir, "cache"));
  const error = await resolveBaseImage(parseImageSource("registry.example.com/team/node:22"), cache, { refresh: false }, context()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BlobDigestError);
  expect((error as Error).message).toMatch(/do not match their digest/);
  expect(await cache.has(`sha256:${sha256(layer)}`)).toBe(false);
});

test("an index without linux/amd64 names the platforms it has", async () => {
  const registry = mock.get(REGISTRY);
  const armOnly = JSON.stringify({ mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ digest: `sha256:${"1".repeat(64)}`, platform: { os: "linux", architecture: "arm64" } }] });
  registry.intercept({ path: "/v2/library/x/manifests/1", method: "GET" }).reply(200, armOnly, { headers: { "content-type": "application/vnd.oci.image.index.v1+json" } });
  const cache = new BlobCache(join(dir, "cache"));
  await expect(resolveBaseImage(parseImageSource("registry.example.com/library/x:1"), cache, { refresh: false }, context())).rejects.toThrow(/no linux\/amd64 image \(it has linux\/arm64\)/);
});

test("a registry that refuses the token says which credentials to provide (exit 4)", async () => {
  mock.get(REGISTRY).intercept({ path: "/v2/team/private/manifests/1", method: "GET" }).reply(401, "", { headers: { "www-authenticate": 'Bearer realm="https://auth.example.com/token",service="r"' } });
  mock.get("https://auth.example.com").intercept({ path: "/token?service=r&scope=repository%3Ateam%2Fprivate%3Apull", method: "GET" }).reply(401, "{}");
  const cache = new BlobCache(join(dir, "cache"));
  const error = await resolveBaseImage(parseImageSource("registry.example.com/team/private:1"), cache, { refresh: false }, context()).catch((e: unknown) => e);
  expect(error).toMatchObject({ exitCode: 4 });
  expect((error as Error & { hint: string }).hint).toMatch(/docker login registry.example.com/);
});
