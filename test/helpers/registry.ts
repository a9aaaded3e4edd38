import { spawn, type ChildProcess } from "node:child_process";
import { createSign, randomBytes, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

/**
 * Registries on 127.0.0.1 for the --engine none tests. scripts/ensure-registry.sh starts the
 * shared one (Debian's docker-registry, anonymous) with the offline base images; the helpers
 * here put a counting (or tampering) proxy in front of it, or start a second docker-registry
 * that wants a token from a token server of our own, as Docker Hub does.
 */
export const TEST_REGISTRY = process.env.C8Y_MS_TEST_REGISTRY ?? "127.0.0.1:5055";
export const REGISTRY_NODE = "c8y-ms-base/node:local";
export const REGISTRY_PYTHON = "c8y-ms-base/python:local";

export async function ensureTestRegistry(): Promise<void> {
  const answer = await fetch(`http://${TEST_REGISTRY}/v2/`).catch(() => undefined);
  if (answer?.status !== 200) throw new Error(`No registry answers on ${TEST_REGISTRY}: run scripts/ensure-registry.sh first (scripts/test-all.sh does).`);
}

export interface RegistryProxy {
  /** host:port to write in image references. */
  host: string;
  /** Request paths seen, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/** Forwards to `target` and records every request; with `tamper`, one byte of every layer (blobs over 1 MB) changes on the way. */
export async function startRegistryProxy(target = TEST_REGISTRY, options: { tamper?: boolean } = {}): Promise<RegistryProxy> {
  const [hostname, port] = target.split(":");
  const requests: string[] = [];
  const server = createServer((incoming, outgoing) => {
    requests.push(incoming.url ?? "");
    const upstream = request({ hostname, port: Number(port), path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: target } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      let first = true;
      answer.on("data", (chunk: Buffer) => {
        const layer = /\/blobs\/sha256:/.test(incoming.url ?? "") && Number(answer.headers["content-length"]) > 1024 * 1024;
        if (options.tamper && first && layer && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[chunk.length - 1] = chunk.at(-1)! ^ 0xff;
        }
        first = false;
        outgoing.write(chunk);
      });
      answer.on("end", () => outgoing.end());
    });
    upstream.on("error", () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  const host = await listen(server);
  return { host, requests, stop: () => close(server) };
}

export interface TokenRegistry {
  host: string;
  /** Token requests the token server answered. */
  tokens: string[];
  stop(): Promise<void>;
}

/**
 * docker-registry with `auth: token` (distribution's token authentication): every request
 * without a token gets 401 and a Bearer challenge naming our token server, which signs a
 * JWT (RS256, its certificate in x5c) granting pull to anyone and push to `pusher`. The
 * python base image is copied in with skopeo.
 */
export async function startTokenRegistry(): Promise<TokenRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "c8y-ms-token-registry-"));
  await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=c8y-ms-test-token"]);
  const key = await readFile(join(dir, "key.pem"), "utf8");
  const certificate = new X509Certificate(await readFile(join(dir, "cert.pem")));
  const tokens: string[] = [];
  const service = "c8y-ms-test-registry";
  const tokenServer = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? "/", "http://x");
    const pusher = incoming.headers.authorization === `Basic ${Buffer.from("pusher:push-secret").toString("base64")}`;
    const access = url.searchParams.getAll("scope").flatMap((scope) => {
      const [type, name, actions = ""] = scope.split(":");
      const granted = actions.split(",").filter((a) => a === "pull" || pusher);
      return type === "repository" && name ? [{ type, name, actions: granted }] : [];
    });
    tokens.push(url.search);
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(
      { alg: "RS256", typ: "JWT", x5c: [certificate.raw.toString("base64")] },
      { iss: "c8y-ms-test-token", sub: pusher ? "pusher" : "", aud: url.searchParams.get("service"), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access },
      key,
    );
    outgoing.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  const tokenHost = await listen(tokenServer);
  const host = await freeHost();
  await writeFile(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      "auth:",
      "  token:",
      `    realm: http://${tokenHost}/token`,
      `    service: ${service}`,
      "    issuer: c8y-ms-test-token",
      `    rootcertbundle: ${join(dir, "cert.pem")}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  // A test run that crashes must not leave the registry behind.
  const killChild = () => child.kill("SIGTERM");
  process.once("exit", killChild);
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => (log += text));
  const stop = async () => {
    killChild();
    process.off("exit", killChild);
    await close(tokenServer);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`http://${host}/v2/`).catch(() => undefined))?.status === 401, () => `docker-registry did not start: ${log}`);
    await execa("skopeo", ["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", "pusher:push-secret", `docker://${TEST_REGISTRY}/${REGISTRY_PYTHON}`, `docker://${host}/${REGISTRY_PYTHON}`]);
  } catch (error) {
    await stop();
    throw error;
  }
  tokens.length = 0;
  return { host, tokens, stop };
}

function jwt(header: object, claims: object, key: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode(header)}.${encode(claims)}`;
  return `${body}.${createSign("RSA-SHA256").update(body).sign(key).toString("base64url")}`;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function freeHost(): Promise<string> {
  const probe = createServer();
  const host = await listen(probe);
  await close(probe);
  return host;
}

async function waitFor(check: () => Promise<boolean>, message: () => string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(message());
}
