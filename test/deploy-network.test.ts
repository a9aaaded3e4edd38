import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployResult } from "../src/pipeline/deploy.js";
import { runCli } from "./helpers/cli.js";
import { startHttpProxy, type HttpProxy } from "./helpers/http-proxy.js";
import { startSandbox, type SandboxHandle } from "./helpers/sandbox.js";
import { makeServiceZip } from "./helpers/service-zip.js";
import { makeCertificates, startTlsFront, type Certificates, type TlsFront } from "./helpers/tls-front.js";

/**
 * Corporate networks (landscape.md complaint 14): a forward proxy from HTTPS_PROXY/HTTP_PROXY
 * with NO_PROXY, and a platform behind a private CA trusted through NODE_EXTRA_CA_CERTS.
 */

let sandbox: SandboxHandle;
let proxy: HttpProxy;
let authProxy: HttpProxy;
let certificates: Certificates;
let front: TlsFront;
let work: string;
let count = 0;
const PROXY_PASSWORD = "proxy-secret-9f3";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "c8y-ms-deploy-network-"));
  sandbox = await startSandbox();
  proxy = await startHttpProxy();
  authProxy = await startHttpProxy({ auth: { user: "corp", password: PROXY_PASSWORD } });
  certificates = await makeCertificates(work);
  front = await startTlsFront(sandbox.url, certificates);
});
afterAll(async () => {
  await Promise.all([sandbox?.stop(), proxy?.stop(), authProxy?.stop(), front?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

async function zipNamed(prefix: string): Promise<{ name: string; zip: string }> {
  const name = `${prefix}-${process.pid % 1000}-${++count}`;
  const zip = await makeServiceZip(join(work, `zip-${count}`), { apiVersion: "2", name, version: "1.0.0", provider: { name: "c8y-ms tests" } });
  return { name, zip };
}

const sandboxHost = () => new URL(sandbox.url).host;

describe("through an HTTP proxy", () => {
  it("deploys through HTTP_PROXY: every request goes through the proxy", async () => {
    proxy.requests.length = 0;
    const { zip } = await zipNamed("proxied");
    const run = await runCli(["deploy", zip, "--json"], { env: { ...sandbox.env(), HTTP_PROXY: proxy.url } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>().uploaded).toBe(true);
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(proxy.requests.every((r) => r.method === "CONNECT" ? r.target === sandboxHost() : r.target.startsWith(sandbox.url))).toBe(true);
  });

  it("authenticates to the proxy with the credentials in its URL and never prints them", async () => {
    authProxy.requests.length = 0;
    const { zip } = await zipNamed("proxyauth");
    const run = await runCli(["deploy", zip, "--verbose"], { env: { ...sandbox.env(), http_proxy: authProxy.authUrl }, secrets: [PROXY_PASSWORD] });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(authProxy.requests.length).toBeGreaterThan(0);
    expect(authProxy.requests.every((r) => r.authorized)).toBe(true);
  });

  it("goes direct for hosts in NO_PROXY", async () => {
    proxy.requests.length = 0;
    const { zip } = await zipNamed("direct");
    const run = await runCli(["deploy", zip], { env: { ...sandbox.env(), HTTP_PROXY: proxy.url, NO_PROXY: "localhost,127.0.0.1" } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(proxy.requests).toEqual([]);
  });

  it("a proxy that refuses the credentials is reported with the proxy's answer", async () => {
    const run = await runCli(["status", "anything"], { env: { ...sandbox.env(), HTTP_PROXY: authProxy.url } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("Could not reach");
    expect(run.stderr).toContain("407");
  });

  it("a proxy that is not there is named as the cause, with its variable, not the platform", async () => {
    const dead = await startHttpProxy();
    const deadUrl = dead.url;
    await dead.stop();
    const run = await runCli(["status", "anything"], { env: { ...sandbox.env(), HTTP_PROXY: deadUrl } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`: the proxy ${new URL(deadUrl).host} (HTTP_PROXY) refused the connection: nothing listens there (ECONNREFUSED).`);
    expect(run.stderr).toContain(`Check HTTP_PROXY (${deadUrl}); to reach 127.0.0.1 without the proxy, add it to NO_PROXY.`);
  });
});

describe("a URL without its scheme", () => {
  it("is taken as https; a plain-HTTP platform (the sandbox) is then named as not speaking HTTPS", async () => {
    const run = await runCli(["status", "anything"], { env: { ...sandbox.env(), C8Y_HOST: sandboxHost() } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`✖ Could not reach https://${sandboxHost()}/tenant/currentTenant: ${sandboxHost()} does not speak HTTPS (ERR_SSL_WRONG_VERSION_NUMBER).`);
    expect(run.stderr).toContain("write http:// in the platform URL (C8Y_HOST (environment))");
    expect(run.stderr.trim().split("\n")).toHaveLength(2);
  });
});

describe("HTTPS with a private CA", () => {
  it("deploys when NODE_EXTRA_CA_CERTS names the CA", async () => {
    const { zip } = await zipNamed("tls");
    const run = await runCli(["deploy", zip, "--json"], { env: { ...sandbox.env(), C8Y_HOST: front.url, NODE_EXTRA_CA_CERTS: certificates.caFile } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json<DeployResult>().subscriptions).toEqual([{ tenant: sandbox.owner, status: "subscribed" }]);
  });

  it("without the CA, fails with exit 1 and says to set NODE_EXTRA_CA_CERTS", async () => {
    const run = await runCli(["status", "anything"], { env: { ...sandbox.env(), C8Y_HOST: front.url, NODE_EXTRA_CA_CERTS: undefined } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Could not reach ${front.url}/tenant/currentTenant`);
    expect(run.stderr).toContain("NODE_EXTRA_CA_CERTS");
  });

  it("goes through an HTTPS proxy tunnel to the TLS platform", async () => {
    proxy.requests.length = 0;
    const run = await runCli(["doctor", "--json"], { env: { ...sandbox.env(), C8Y_HOST: front.url, NODE_EXTRA_CA_CERTS: certificates.caFile, HTTPS_PROXY: proxy.url } });
    const checks = Object.fromEntries(run.json<{ checks: { name: string; status: string; detail: string }[] }>().checks.map((c) => [c.name, c]));
    expect(checks["Platform URL"]?.status, checks["Platform URL"]?.detail).toBe("ok");
    expect(checks["Platform URL"]?.detail).toContain(`through proxy ${proxy.url}`);
    expect(checks.Credentials?.status).toBe("ok");
    expect(proxy.requests.map((r) => r.method)).toContain("CONNECT");
    expect(proxy.requests.every((r) => r.target === new URL(front.url).host)).toBe(true);
  });
});
