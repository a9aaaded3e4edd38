import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isSubscribed } from "./applications.js";
import { authenticate, noAuth, type Principal } from "./auth.js";
import { ApiError, ERROR_INFO } from "./http.js";
import type { SandboxCore } from "./router.js";
import { socketAddress, type Endpoint } from "./runtime.js";
import type { ApplicationRecord } from "./state.js";

export const SERVICE_PREFIX = "/service/";

/** Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

interface Route {
  app: ApplicationRecord;
  prefix: string;
  /** The path and query the service sees: the prefix stripped, the rest as sent. */
  forwardPath: string;
  endpoint: Endpoint;
  principal: Principal;
}

/**
 * The platform's gateway for `/service/<contextPath>/...` (platform.md §4.3): authenticate,
 * check that the caller's tenant subscribed the service, strip the prefix, keep
 * Authorization (and cookies), add x-forwarded-*, and stream both ways.
 * @throws {ApiError} 401 without or with wrong credentials, 404 unknown service,
 *   403 tenant not subscribed, 503 service not running or not answering
 */
export async function forward(req: IncomingMessage, res: ServerResponse, core: SandboxCore): Promise<void> {
  const route = resolve(req, core);
  const upstream = request({
    ...route.endpoint,
    method: req.method,
    path: route.forwardPath,
    headers: forwardedHeaders(req, route.prefix),
  });
  const answered = new Promise<IncomingMessage>((resolvePromise, reject) => {
    upstream.once("response", resolvePromise);
    upstream.once("error", reject);
  });
  // The request body streams to the service while we wait for its answer.
  const sent = pipeline(req, upstream).catch(() => undefined);
  let response: IncomingMessage;
  try {
    response = await answered;
  } catch (error) {
    throw unavailable(route.app, error);
  }
  res.writeHead(response.statusCode ?? 502, response.statusMessage, withoutHopByHop(response.headers));
  await pipeline(response, res).catch(() => res.destroy());
  await sent;
}

/** WebSockets pass the gateway too (platform.md §4.2: one inbound port, HTTP or WebSocket). */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, core: SandboxCore): void {
  let route: Route;
  try {
    route = resolve(req, core);
  } catch (error) {
    const failure = error instanceof ApiError ? error : new ApiError(500, "general/internalError", String(error));
    const body = JSON.stringify({ error: failure.error, message: failure.message, info: ERROR_INFO });
    socket.end(`HTTP/1.1 ${failure.status} ${failure.error}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    return;
  }
  const upstream = connect(socketAddress(route.endpoint), () => {
    const headers = { ...forwardedHeaders(req, route.prefix), connection: "Upgrade", upgrade: req.headers.upgrade ?? "websocket" };
    const lines = [`${req.method} ${route.forwardPath} HTTP/1.1`, ...Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : v === undefined ? [] : [`${k}: ${v}`]))];
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", close);
  socket.on("error", close);
}

function resolve(req: IncomingMessage, core: SandboxCore): Route {
  const raw = req.url ?? "/";
  const rest = raw.slice(SERVICE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const encodedName = end < 0 ? rest : rest.slice(0, end);
  const forwardPath = end < 0 ? "/" : rest[end] === "?" ? `/${rest.slice(end)}` : rest.slice(end);
  const name = safeDecode(encodedName);
  if (name === "") throw new ApiError(404, "general/notFound", "Name the microservice: /service/<contextPath>/...");

  const state = core.store.state;
  const principal = authenticate(req, state, core.logins);
  if (!principal) throw noAuth();
  const candidates = state.applications.filter((a) => a.type === "MICROSERVICE" && (a.contextPath ?? a.name) === name);
  if (candidates.length === 0) throw new ApiError(404, "general/notFound", `Microservice/${name} not found.`);
  const app = candidates.find((a) => isSubscribed(state, principal.tenant, a.id));
  // The platform's text for an unsubscribed tenant is undocumented; ours names the fix.
  if (!app) {
    throw new ApiError(403, "security/Forbidden", `Tenant ${principal.tenant} is not subscribed to microservice ${name}; subscribe it first (c8y-ms subscribe ${candidates[0]?.name ?? name} ${principal.tenant}).`);
  }
  const target = core.runtime.target(app, principal.tenant);
  if (typeof target === "string") throw new ApiError(503, "microservice/unavailable", target);
  return { app, prefix: `${SERVICE_PREFIX}${encodedName}`, forwardPath, endpoint: target, principal };
}

function forwardedHeaders(req: IncomingMessage, prefix: string): IncomingHttpHeaders {
  const headers = withoutHopByHop(req.headers);
  const remote = req.socket.remoteAddress ?? "127.0.0.1";
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-prefix"] = prefix;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-for"] = req.headers["x-forwarded-for"] ? `${req.headers["x-forwarded-for"]}, ${remote}` : remote;
  headers["x-real-ip"] = remote;
  return headers;
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connectionListed = String(headers.connection ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase());
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !connectionListed.includes(name)));
}

/** platform.md §3.4 [DOC-TROUBLE]: what the platform says while a service is not answering yet. */
function unavailable(app: ApplicationRecord, cause: unknown): ApiError {
  const code = (cause as NodeJS.ErrnoException).code;
  const detail = code === "ECONNREFUSED" ? "Connection refused" : (cause as Error).message;
  return new ApiError(503, "microservice/unavailable", `Microservice not available ${detail} (${app.name}).`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
