import { setFlagsFromString } from "node:v8";
import { Agent, EnvHttpProxyAgent, type Dispatcher } from "undici";
import type { Env } from "../context.js";
import type { Redactor } from "../secrets.js";

/** Connecting is quick or it is not going to happen. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Most calls answer in well under a second; a busy platform may take its time. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 120_000;
/** Silence while a response body streams in. */
const BODY_TIMEOUT_MS = 120_000;

/** The proxy a request goes through, and the variable that set it. */
export interface ProxyRoute {
  url: string;
  variable: "HTTPS_PROXY" | "HTTP_PROXY";
}

export interface PlatformDispatcher {
  dispatcher: Dispatcher;
  /** The proxy in use (credentials masked), for --verbose and doctor. */
  proxy: { http?: string | undefined; https?: string | undefined; noProxy?: string | undefined } | undefined;
  /** The proxy that requests to `url` go through, if any: connection errors are then the proxy's. */
  proxyFor(url: URL): ProxyRoute | undefined;
}

/**
 * The undici dispatcher for platform calls. With HTTPS_PROXY/HTTP_PROXY set (either case, as
 * curl reads them) requests go through undici's env proxy agent, which honours NO_PROXY.
 * Extra CAs need nothing here: Node adds NODE_EXTRA_CA_CERTS to its default trust store,
 * which TLS connections use when no `ca` is given.
 *
 * The headers timeout is per request (uploads wait longer); undici refreshes it while a body
 * is still being written, so a long upload is never cut off for taking long.
 */
export function createDispatcher(env: Env, redactor: Redactor): PlatformDispatcher {
  keepHttpParserBaseline();
  const options: Agent.Options = {
    connect: { timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: DEFAULT_HEADERS_TIMEOUT_MS,
    bodyTimeout: BODY_TIMEOUT_MS,
  };
  const read = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  const http = read("HTTP_PROXY");
  const https = read("HTTPS_PROXY");
  const noProxy = read("NO_PROXY");
  if (!http && !https) return { dispatcher: new Agent(options), proxy: undefined, proxyFor: () => undefined };

  for (const proxy of [http, https]) registerProxySecret(proxy, redactor);
  // Passed explicitly: the agent would otherwise read process.env, not the context's env.
  const dispatcher = new EnvHttpProxyAgent({ ...options, httpProxy: http ?? "", httpsProxy: https ?? "", noProxy: noProxy ?? "" });
  const proxyFor = (url: URL): ProxyRoute | undefined => {
    if (bypassesProxy(url, noProxy)) return undefined;
    // As undici's EnvHttpProxyAgent: HTTPS_PROXY for https, falling back to HTTP_PROXY.
    if (url.protocol === "https:" && https) return { url: https, variable: "HTTPS_PROXY" };
    return http ? { url: http, variable: "HTTP_PROXY" } : undefined;
  };
  return { dispatcher, proxy: { http, https, noProxy }, proxyFor };
}

/** NO_PROXY as curl and undici read it: `*`, or host names (a leading dot optional) and optional ports. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return (noProxy ?? "")
    .split(/[,\s]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const [, name = "", entryPort] = /^\.?(.*?)(?::(\d+))?$/.exec(entry.toLowerCase()) ?? [];
      if (entryPort && entryPort !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it quickly with Liftoff,
 * then recompiles it with TurboFan in the background, which briefly takes about 35 MB: a third
 * of the memory of a multi-GB upload, for parsing a few small responses a little faster. Only
 * WebAssembly tiering changes, and only before undici's first connection compiles the parser.
 */
function keepHttpParserBaseline(): void {
  setFlagsFromString("--liftoff-only");
}

function registerProxySecret(proxy: string | undefined, redactor: Redactor): void {
  if (!proxy) return;
  try {
    // The redactor masks the URL-encoded form too.
    const { password } = new URL(proxy);
    if (password) redactor.add(decodeURIComponent(password));
  } catch {
    // undici reports an unparsable proxy URL itself, on the first request.
  }
}
