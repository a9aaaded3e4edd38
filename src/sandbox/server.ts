import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "../ui/logger.js";
import { Faults } from "./faults.js";
import { lockDataDir } from "./lock.js";
import { forward, forwardUpgrade, SERVICE_PREFIX } from "./gateway.js";
import { ApiError, sendError } from "./http.js";
import { matchRoute, runRoute, type Route, type SandboxCore } from "./router.js";
import { applicationRoutes } from "./routes/applications.js";
import { currentApplicationRoutes } from "./routes/current-application.js";
import { inventoryRoutes } from "./routes/inventory.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { tenantRoutes } from "./routes/tenant.js";
import { binaryRoutes } from "./routes/binaries.js";
import { alarmRoutes } from "./routes/alarm.js";
import { deviceControlRoutes } from "./routes/devicecontrol.js";
import { eventRoutes } from "./routes/event.js";
import { identityRoutes } from "./routes/identity.js";
import { measurementRoutes } from "./routes/measurement.js";
import { notification2Routes } from "./routes/notification2.js";
import { realtimeRoutes } from "./routes/realtime.js";
import { RealtimeHub } from "./realtime.js";
import { tenantOptionRoutes } from "./routes/tenant-options.js";
import { CONSUMER_PATH, NotificationHub } from "./notification-hub.js";
import { DataStore } from "./data/store.js";
import { createInertRuntime, type ServiceRuntime } from "./runtime.js";
import { Store, type PersonRole } from "./state.js";
import { LoginThrottle } from "./login-throttle.js";
import { UploadChecker } from "./upload-check.js";

export interface SandboxServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  uploadLimit: number;
  logger: Pick<Logger, "debug" | "warn">;
  /** Enables /__sandbox/faults and /__sandbox/requests (TEAM.md part C). */
  faults: boolean;
  /**
   * Runs uploaded services; made once the address is known (services call back to it).
   * `accept` serves a connection that came another way than the TCP port (a relay's socket).
   */
  createRuntime?: (core: Omit<SandboxCore, "runtime">, accept: (socket: Socket) => void) => ServiceRuntime;
  /** SERVER_LIMITS unless a test needs them shorter. */
  limits?: ServerLimits;
}

/**
 * How long and how many: a client that sends slowly, or not at all, holds a connection only
 * this long, and only this many connections are held at once. The platform does not publish
 * its figures; these bound slow senders while a large upload (which streams for minutes at any
 * real speed) is never cut for its duration, only for idleness.
 */
export interface ServerLimits {
  /** The request line and headers must have arrived after this long. */
  headersMs: number;
  /** A body of a route that does not stream (JSON, forms: at most 1 MB) must have arrived after this long. */
  bodyMs: number;
  /** A connection on which nothing moves either way for this long is closed (also uploads and the gateway). */
  idleMs: number;
  /** Connections open at once; more are closed as they come. */
  maxConnections: number;
}

export const SERVER_LIMITS: ServerLimits = { headersMs: 20_000, bodyMs: 30_000, idleMs: 120_000, maxConnections: 1024 };

/** What `c8y-ms sandbox --json` prints once it serves (TEAM.md part C; the README shows it). */
export interface ReadyDocument {
  url: string;
  dataDir: string;
  containers: boolean;
  faults: boolean;
  uploadLimit: number;
  /** With containers: the engine that runs services and how they are reached. */
  engine?: string;
  network?: string;
  tenants: { id: string; parent: string | null }[];
  users: { tenant: string; user: string; password: string; role: PersonRole; totpSecret?: string }[];
}

export interface RunningSandbox {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** Every API route the sandbox serves; new APIs add theirs here. */
export const ROUTES: readonly Route[] = [
  ...tenantRoutes,
  ...subscriptionRoutes,
  ...applicationRoutes,
  ...binaryRoutes,
  ...currentApplicationRoutes,
  ...inventoryRoutes,
  ...identityRoutes,
  ...measurementRoutes,
  ...eventRoutes,
  ...alarmRoutes,
  ...deviceControlRoutes,
  ...tenantOptionRoutes,
  ...notification2Routes,
  ...realtimeRoutes,
];

/** How long a connection may go on sending after an early answer (e.g. 413) before it is cut. */
const LINGER_MS = 1000;

/** The sandbox's HTTP server on 127.0.0.1 only: nothing outside this machine can reach it. */
export async function startSandboxServer(options: SandboxServerOptions): Promise<RunningSandbox> {
  const dataDir = resolve(options.dataDir);
  const unlock = await lockDataDir(dataDir);
  let store: Store;
  try {
    store = await Store.open(dataDir);
    await removeUnfinishedUploads(dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  const data = new DataStore(dataDir);
  const notifications = new NotificationHub(data, () => store.state.tokenSecret);
  const realtime = new RealtimeHub(data);
  const core: SandboxCore = {
    store,
    data,
    notifications,
    realtime,
    baseUrl: "",
    runtime: createInertRuntime(),
    uploadLimit: options.uploadLimit,
    uploads: new UploadChecker(options.logger),
    logins: new LoginThrottle(),
  };
  const faults = options.faults ? new Faults() : undefined;
  const limits = options.limits ?? SERVER_LIMITS;
  const server = createServer(
    {
      headersTimeout: limits.headersMs,
      // No limit on a whole request: uploads stream for minutes. Idleness and the body deadline bound the rest.
      requestTimeout: 0,
      // How often Node looks for connections past headersTimeout.
      connectionsCheckingInterval: Math.min(1000, limits.headersMs),
    },
    (req, res) => {
      void handle(req, res, { core, faults, logger: options.logger, bodyMs: limits.bodyMs });
    },
  );
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", core.baseUrl);
    if (url.pathname.startsWith(SERVICE_PREFIX)) forwardUpgrade(req, socket, head, core);
    else if (url.pathname.replace(/\/$/, "") === CONSUMER_PATH) notifications.handleUpgrade(req, socket, head, url);
    else socket.destroy();
  });
  // Without a 'timeout' listener Node closes a connection that has been idle this long.
  server.timeout = limits.idleMs;
  server.maxConnections = limits.maxConnections;
  try {
    await listen(server, options.port);
  } catch (error) {
    await unlock();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  core.baseUrl = `http://127.0.0.1:${port}`;
  if (options.createRuntime) core.runtime = options.createRuntime(core, (socket) => server.emit("connection", socket));
  return {
    url: core.baseUrl,
    store,
    close: async () => {
      core.uploads.close();
      await core.runtime.close();
      realtime.close();
      await notifications.close();
      await closeServer(server);
      await data.close();
      await unlock();
    },
  };
}

export function readyDocument(store: Store, url: string, extra: Pick<ReadyDocument, "containers" | "faults" | "uploadLimit" | "engine" | "network">): ReadyDocument {
  const { state } = store;
  return {
    url,
    dataDir: store.dataDir,
    ...extra,
    tenants: state.tenants.map(({ id, parent }) => ({ id, parent })),
    users: state.users
      .filter((u) => u.kind === "person")
      .map((u) => ({
        tenant: u.tenant,
        user: u.name,
        password: u.password,
        role: u.person ?? "admin",
        ...(u.totpSecret ? { totpSecret: u.totpSecret } : {}),
      })),
  };
}

interface Handling {
  core: SandboxCore;
  faults: Faults | undefined;
  logger: SandboxServerOptions["logger"];
  bodyMs: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, { core, faults, logger, bodyMs }: Handling): Promise<void> {
  const started = Date.now();
  // Node may let go of req.socket once the request is destroyed; the linger needs the connection itself.
  const socket = req.socket;
  res.on("finish", () => {
    logger.debug(`${req.method} ${req.url} → ${res.statusCode} (${Date.now() - started}ms)`);
    if (!req.url?.startsWith("/__sandbox/")) faults?.record({ method: req.method ?? "GET", path: req.url ?? "/", status: res.statusCode, at: new Date(started).toISOString() });
    if (!req.complete) lingerThenClose(req, socket);
  });
  try {
    const url = new URL(req.url ?? "/", core.baseUrl);
    if (faults && ((await faults.control(req, res, url.pathname)) || (await faults.inject(req, res, url.pathname)))) return;
    if (url.pathname.startsWith(SERVICE_PREFIX)) {
      await forward(req, res, core);
      return;
    }
    const match = matchRoute(ROUTES, req.method ?? "GET", url.pathname);
    if (match === undefined) throw new ApiError(404, "general/notFound", `Nothing is served at ${url.pathname}.`);
    if (match === "method-not-allowed") throw new ApiError(405, "general/methodNotAllowed", `${req.method} is not supported on ${url.pathname}.`);
    if (!match.route.streamsBody) cutWhenBodyLate(req, res, socket, bodyMs);
    await runRoute(match, { req, res, url, core });
  } catch (error) {
    if (error instanceof ApiError) {
      sendError(res, error);
    } else {
      logger.warn(`Sandbox error on ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
      sendError(res, new ApiError(500, "general/internalError", error instanceof Error ? error.message : String(error)));
    }
  }
}

/**
 * A body that has not arrived whole after `ms` is a client holding the connection, not sending
 * (a few bytes every few seconds keep it from ever being idle): the connection is closed.
 */
function cutWhenBodyLate(req: IncomingMessage, res: ServerResponse, socket: Socket, ms: number): void {
  const timer = setTimeout(() => {
    if (!req.complete) socket.destroy();
  }, ms).unref();
  res.once("close", () => clearTimeout(timer));
}

/**
 * The answer went out before the request body was read (413, 401 on an upload...). Closing at
 * once could reset the connection before the client reads the answer, so the rest of the body
 * is discarded for a moment, then the connection is closed.
 */
function lingerThenClose(req: IncomingMessage, socket: Socket): void {
  req.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  // Drained in time (a small body, or none: a GET nobody read): the kept-alive connection
  // stays usable, and closing it would reset the client's next request on it.
  req.once("end", () => clearTimeout(timer));
}

/**
 * Uploads stream to temporary files beside the binaries (binaries.ts), removed when the upload
 * ends or the process exits; a process killed outright leaves them, and they go here.
 */
async function removeUnfinishedUploads(dataDir: string): Promise<void> {
  const dir = join(dataDir, "binaries");
  const names = await readdir(dir).catch(() => []);
  for (const name of names.filter((n) => n.startsWith(".") && n.endsWith(".tmp"))) await rm(join(dir, name), { force: true });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    server.close(() => resolvePromise());
    server.closeAllConnections();
  });
}
