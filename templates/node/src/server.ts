import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Credentials } from "./config.js";
import type { Logger } from "./log.js";
import { basicAuth, callerAuth, PlatformError, type Auth, type Platform } from "./platform.js";
import type { ServiceUsers } from "./service-users.js";

export interface ServiceDeps {
  platform: Platform;
  serviceUsers: ServiceUsers;
  log: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The HTTP service. The platform's gateway forwards `/service/<name>/<path>` here as `/<path>`,
 * with the caller's Authorization header unchanged.
 */
export function createService(deps: ServiceDeps): Server {
  const routes: Record<string, Handler> = {
    "/health": async (_req, res) => send(res, 200, { status: "UP" }),
    "/hello": (req, res) => hello(deps, req, res),
  };

  return createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://service").pathname;
    const started = performance.now();
    res.on("finish", () => {
      // Probes call /health every few seconds; logging each would drown everything else.
      if (path !== "/health" || res.statusCode !== 200) {
        deps.log.info(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
      }
    });

    const route = routes[path];
    if (!route) return send(res, 404, { error: `Nothing at ${path}.` });
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, { error: `${path} answers GET only.` });
    }
    try {
      await route(req, res);
    } catch (error) {
      if (error instanceof PlatformError) {
        deps.log.warn(error.message);
        return send(res, 502, { error: "The platform did not answer as expected; try again." });
      }
      deps.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      if (!res.headersSent) send(res, 500, { error: "Internal error." });
      else res.destroy();
    }
  });
}

/**
 * The example endpoint: checks the caller with the platform, then acts in the caller's tenant as
 * that tenant's service user (which holds the manifest's requiredRoles, whatever the caller may do).
 */
async function hello({ platform, serviceUsers }: ServiceDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const auth = callerAuth(req.headers);
  if (!auth) return send(res, 401, { error: "Sign in: this endpoint needs the caller's platform credentials." });
  let caller;
  let tenant;
  try {
    [caller, tenant] = await Promise.all([platform.currentUser(auth), platform.currentTenant(auth)]);
  } catch (error) {
    if (error instanceof PlatformError && (error.status === 401 || error.status === 403)) {
      return send(res, 401, { error: "The platform did not accept these credentials." });
    }
    throw error;
  }

  const acted = await asServiceUser(serviceUsers, tenant.name, (serviceAuth) => platform.currentTenant(serviceAuth));
  if (!acted) return send(res, 403, { error: `Tenant ${tenant.name} is not subscribed to this service.` });
  send(res, 200, {
    message: `Hello ${caller.userName} of tenant ${tenant.name}!`,
    caller: { tenant: tenant.name, user: caller.userName },
    serviceUser: { tenant: acted.result.name, user: acted.user.user, domain: acted.result.domainName },
  });
}

/** Runs `call` as the tenant's service user; on 401 (a resubscribed tenant gets a new password) reloads once and retries. */
async function asServiceUser<T>(
  serviceUsers: ServiceUsers,
  tenant: string,
  call: (auth: Auth) => Promise<T>,
): Promise<{ user: Credentials; result: T } | undefined> {
  const user = await serviceUsers.forTenant(tenant);
  if (!user) return undefined;
  try {
    return { user, result: await call(basicAuth(user)) };
  } catch (error) {
    if (!(error instanceof PlatformError && error.status === 401)) throw error;
    const renewed = await serviceUsers.forTenant(tenant, { reload: true });
    if (!renewed) return undefined;
    return { user: renewed, result: await call(basicAuth(renewed)) };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

/**
 * Graceful stop: no new connections, idle keep-alive connections closed, requests in flight
 * answered. Connections still busy after `graceMs` are cut so the process can end.
 */
export function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
