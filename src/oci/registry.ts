import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { request, type Dispatcher } from "undici";
import type { Context } from "../context.js";
import { AuthError, CancelledError, CliError, networkErrorCode } from "../errors.js";
import { sha256 } from "./blob-cache.js";
import { isLoopbackRegistry, type RegistryReference } from "./reference.js";

/**
 * A read-only client of the OCI distribution API (github.com/opencontainers/distribution-spec,
 * spec.md "Pulling manifests" and "Pulling blobs"), authenticating as registries ask in their
 * 401 answer (distribution/docs "Token Authentication Specification"): `WWW-Authenticate:
 * Bearer realm=...,service=...,scope=...` sends us to the token server (anonymously, or with
 * Basic credentials from ~/.docker/config.json), `Basic realm=...` takes those credentials
 * directly. Blobs may redirect to storage elsewhere; the Authorization header stays behind.
 */
export const MANIFEST_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

const ACCEPT = Object.values(MANIFEST_TYPES).join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Buffer;
}

/**
 * How requests leave this machine: undici's dispatcher with the proxy and CA settings the
 * platform client uses too (the caller makes it), and which proxy variable a URL goes through.
 */
export interface RegistryHttp {
  dispatcher: Dispatcher;
  proxyFor(url: URL): { variable: string } | undefined;
}

export type RegistryContext = Pick<Context, "env" | "signal" | "logger" | "redactor"> & { http: RegistryHttp };

/** The registry answered, but not with what was asked for (404, 5xx, a damaged manifest). Exit 1. */
export class RegistryError extends CliError {
  override readonly code = "REGISTRY_ERROR";
}

export class RegistryAuthError extends AuthError {
  override readonly code = "REGISTRY_AUTH";
}

export class RegistryClient {
  #base: URL;
  /** A loopback registry may speak plain HTTP: Docker tries HTTPS, then HTTP, for those. */
  #mayFallBack: boolean;
  readonly #credentials: string | undefined;
  /** What the registry asked for in its 401: a Bearer token, or the Basic credentials. */
  #authorization: string | undefined;
  /** Requests sent, for --verbose. */
  requests = 0;

  constructor(
    readonly reference: RegistryReference,
    private readonly ctx: RegistryContext,
    credentials: string | undefined,
  ) {
    this.#base = new URL(`https://${reference.registry}/v2/${reference.repository}/`);
    this.#mayFallBack = isLoopbackRegistry(reference.registry);
    this.#credentials = credentials;
  }

  /** A manifest or index by tag or digest, its digest checked. */
  async manifest(tagOrDigest: string): Promise<FetchedManifest> {
    const response = await this.#get(`manifests/${tagOrDigest}`, { accept: ACCEPT }, `the manifest of ${this.#label(tagOrDigest)}`);
    const body = await readLimited(response, MAX_MANIFEST_BYTES);
    const digest = `sha256:${sha256(body)}`;
    const claimed = header(response, "docker-content-digest");
    const wanted = tagOrDigest.startsWith("sha256:") ? tagOrDigest : claimed;
    if (wanted && wanted !== digest) {
      throw new RegistryError(`The manifest of ${this.#label(tagOrDigest)} does not match its digest ${wanted} (it hashes to ${digest}).`, { hint: "The registry or something in between changed it; try again, and if it persists tell the registry's operator." });
    }
    const mediaType = header(response, "content-type")?.split(";")[0]?.trim() || mediaTypeOf(body);
    return { mediaType, digest, body };
  }

  /** A blob's bytes as they arrive (the caller checks the digest). */
  async blob(digest: string, what: string): Promise<AsyncIterable<Buffer>> {
    const response = await this.#get(`blobs/${digest}`, {}, what);
    return response.body as AsyncIterable<Buffer>;
  }

  #label(tagOrDigest: string): string {
    const { registry, repository } = this.reference;
    return `${registry}/${repository}${tagOrDigest.startsWith("sha256:") ? "@" : ":"}${tagOrDigest}`;
  }

  async #get(path: string, headers: Record<string, string>, what: string): Promise<Dispatcher.ResponseData> {
    let target = new URL(path, this.#base);
    let authorised = true;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let response = await this.#send(target, headers, authorised ? this.#authorization : undefined, what);
      if (response.statusCode === 401 && authorised) {
        await response.body.dump();
        await this.#authenticate(header(response, "www-authenticate"), what);
        response = await this.#send(target, headers, this.#authorization, what);
      }
      if ([301, 302, 303, 307, 308].includes(response.statusCode)) {
        await response.body.dump();
        const location = header(response, "location");
        if (!location) throw new RegistryError(`The registry redirected ${what} without a location.`, { hint: REGISTRY_HINT });
        const next = new URL(location, target);
        // Storage behind a redirect has its own (signed) URL: our token is not for it.
        if (next.host !== target.host) authorised = false;
        target = next;
        continue;
      }
      if (response.statusCode >= 200 && response.statusCode < 300) return response;
      const text = (await response.body.text().catch(() => "")).slice(0, 500);
      throw this.#statusError(response.statusCode, text, what);
    }
    throw new RegistryError(`The registry redirected ${what} more than ${MAX_REDIRECTS} times.`, { hint: REGISTRY_HINT });
  }

  async #send(requested: URL, headers: Record<string, string>, authorization: string | undefined, what: string): Promise<Dispatcher.ResponseData> {
    // A registry found to speak plain HTTP is asked that way from then on.
    const url = requested.host === this.#base.host && requested.protocol !== this.#base.protocol ? new URL(requested.href.replace(/^https:/, this.#base.protocol)) : requested;
    try {
      return await this.#sendOnce(url, headers, authorization, what);
    } catch (error) {
      if (!this.#mayFallBack || url.protocol !== "https:" || url.host !== this.#base.host || !speaksPlainHttp(error)) throw error;
      this.#mayFallBack = false;
      this.#base = new URL(this.#base.href.replace(/^https:/, "http:"));
      return this.#sendOnce(new URL(url.href.replace(/^https:/, "http:")), headers, authorization, what);
    }
  }

  async #sendOnce(url: URL, headers: Record<string, string>, authorization: string | undefined, what: string): Promise<Dispatcher.ResponseData> {
    this.requests++;
    const started = performance.now();
    try {
      const response = await request(url, {
        method: "GET",
        headers: { ...headers, ...(authorization ? { authorization } : {}), "user-agent": "c8y-ms" },
        dispatcher: this.ctx.http.dispatcher,
        signal: this.ctx.signal,
      });
      this.ctx.logger.debug(`GET ${url.origin}${url.pathname} → ${response.statusCode} (${Math.round(performance.now() - started)} ms)`);
      // Once HTTPS answered, a loopback registry is not tried over plain HTTP.
      this.#mayFallBack = false;
      return response;
    } catch (error) {
      if (this.ctx.signal.aborted) throw new CancelledError();
      throw registryNetworkError(url, error, what, this.ctx.http.proxyFor(url)?.variable);
    }
  }

  async #authenticate(challenge: string | undefined, what: string): Promise<void> {
    const parsed = parseChallenge(challenge ?? "");
    if (parsed?.scheme === "basic") {
      if (!this.#credentials) throw this.#statusError(401, "", what);
      this.#authorization = `Basic ${this.#credentials}`;
      return;
    }
    if (parsed?.scheme !== "bearer" || !parsed.params.realm) throw this.#statusError(401, "", what);
    const realm = new URL(parsed.params.realm);
    if (parsed.params.service) realm.searchParams.set("service", parsed.params.service);
    realm.searchParams.set("scope", parsed.params.scope ?? `repository:${this.reference.repository}:pull`);
    const response = await this.#send(realm, { accept: "application/json" }, this.#credentials ? `Basic ${this.#credentials}` : undefined, what);
    const text = await response.body.text().catch(() => "");
    if (response.statusCode !== 200) throw this.#tokenError(realm, response.statusCode);
    let token: unknown;
    try {
      const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") throw new RegistryError(`The token server ${realm.host} answered without a token.`, { hint: REGISTRY_HINT });
    this.ctx.redactor.add(token);
    this.#authorization = `Bearer ${token}`;
  }

  #tokenError(realm: URL, status: number): CliError {
    const message = `The token server ${realm.host} refused a token for ${this.reference.repository} (${status}).`;
    if (status === 401 || status === 403) return new RegistryAuthError(message, { hint: this.#loginHint() });
    return new RegistryError(message, { hint: REGISTRY_HINT });
  }

  #statusError(status: number, text: string, what: string): CliError {
    const { registry, repository } = this.reference;
    if (status === 401 || status === 403) {
      return new RegistryAuthError(`${registry} refused access to ${repository} (${status}) while fetching ${what}.`, { hint: this.#loginHint() });
    }
    if (status === 404) {
      return new RegistryError(`${registry} has no ${what} (404).`, { hint: `Check the base image's name and tag (FROM, or --build-arg BASE_IMAGE=...); ${registry} answered that ${repository} has no such entry.` });
    }
    const said = text.trim() ? `: ${text.trim().split("\n")[0]}` : "";
    return new RegistryError(`${registry} answered ${status} for ${what}${said}.`, { hint: status >= 500 || status === 429 ? "The registry is failing or limiting requests; try again later." : REGISTRY_HINT });
  }

  #loginHint(): string {
    const { registry } = this.reference;
    return this.#credentials
      ? `The credentials for ${registry} in ~/.docker/config.json were refused; log in again (\`docker login ${registry}\`) or check the user's pull rights.`
      : `${registry} wants credentials: add them to ~/.docker/config.json (\`docker login ${registry}\` writes them; a credential helper is not read) or use a base image you may pull anonymously.`;
  }
}

const REGISTRY_HINT = "Check the base image reference, or take the base image from a file (--build-arg BASE_IMAGE=docker-archive:<file>).";

/** `Bearer realm="...",service="...",scope="..."` (RFC 7235 auth-params, quoted or not). */
export function parseChallenge(text: string): { scheme: string; params: Record<string, string> } | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(text);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, "$1") : param[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/**
 * Basic credentials (base64 `user:password`) for `registry` from Docker's config file
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), as `docker login` writes them.
 */
export async function registryCredentials(ctx: Pick<Context, "env" | "redactor">, registry: string): Promise<string | undefined> {
  const dir = ctx.env.DOCKER_CONFIG || join(ctx.env.HOME || homedir(), ".docker");
  const text = await readFile(join(dir, "config.json"), "utf8").catch(() => undefined);
  if (!text) return undefined;
  let auths: Record<string, { auth?: unknown }> | undefined;
  try {
    auths = (JSON.parse(text) as { auths?: Record<string, { auth?: unknown }> }).auths;
  } catch {
    return undefined;
  }
  const keys = registry === "registry-1.docker.io" ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", registry] : [registry, `https://${registry}`, `http://${registry}`];
  for (const key of keys) {
    const auth = auths?.[key]?.auth;
    if (typeof auth === "string" && auth !== "") {
      ctx.redactor.add(auth);
      const password = Buffer.from(auth, "base64").toString("utf8").split(":").slice(1).join(":");
      ctx.redactor.add(password);
      return auth;
    }
  }
  return undefined;
}

function registryNetworkError(url: URL, error: unknown, what: string, proxyVariable: string | undefined): CliError {
  const code = networkErrorCode(error);
  if (speaksPlainHttp({ cause: error })) {
    return new RegistryError(`${url.host} does not speak HTTPS (${code}), fetching ${what}.`, {
      hint: "c8y-ms speaks plain HTTP only to registries on this machine (127.0.0.0/8, localhost), as Docker does without configuration; serve this registry over HTTPS, or take the base image from a file (--build-arg BASE_IMAGE=docker-archive:<file>).",
      cause: error,
    });
  }
  const tls = code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/.test(code);
  const via = proxyVariable ? ` through the proxy in ${proxyVariable}` : "";
  const hint = tls
    ? "The registry's TLS certificate is not trusted: if a private CA signed it, set NODE_EXTRA_CA_CERTS to that CA's PEM file."
    : proxyVariable
      ? `Check ${proxyVariable} (and NO_PROXY for hosts to reach directly), or take the base image from a file (--build-arg BASE_IMAGE=docker-archive:<file>).`
      : "Check the registry's name and your network (behind a proxy, set HTTPS_PROXY), or take the base image from a file (--build-arg BASE_IMAGE=docker-archive:<file>).";
  return new RegistryError(`Could not reach ${url.host}${via} for ${what}: ${(error as Error).message}${code ? ` (${code})` : ""}.`, { hint, cause: error });
}

/** A TLS hello answered by a plain HTTP server: the registry has no HTTPS (not a certificate problem). */
function speaksPlainHttp(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause;
  const code = networkErrorCode(cause);
  return code === "ERR_SSL_WRONG_VERSION_NUMBER" || (code === "EPROTO" && /wrong version number|packet length too long/i.test(String((cause as Error | undefined)?.message)));
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readLimited(response: Dispatcher.ResponseData, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.body.destroy();
      throw new RegistryError(`The registry sent a manifest of more than ${limit} bytes.`, { hint: REGISTRY_HINT });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function mediaTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { mediaType?: unknown };
    return typeof parsed.mediaType === "string" ? parsed.mediaType : "";
  } catch {
    return "";
  }
}
