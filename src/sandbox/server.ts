import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Logger } from "../ui/logger.js";
import { ApiError, sendError } from "./http.js";
import { matchRoute, runRoute, type Route, type SandboxCore } from "./router.js";
import { applicationRoutes } from "./routes/applications.js";
import { currentApplicationRoutes } from "./routes/current-application.js";
import { inventoryRoutes } from "./routes/inventory.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { tenantRoutes } from "./routes/tenant.js";
import { createInertRuntime } from "./runtime.js";
import { Store, type PersonRole } from "./state.js";

export interface SandboxServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  logger: Pick<Logger, "debug" | "warn">;
}

/** What `c8y-ms sandbox --json` prints once it serves (TEAM.md part C; the README shows it). */
export interface ReadyDocument {
  url: string;
  dataDir: string;
  containers: boolean;
  faults: boolean;
  uploadLimit: number;
  tenants: { id: string; parent: string | null }[];
  users: { tenant: string; user: string; password: string; role: PersonRole; totpSecret?: string }[];
}

export interface RunningSandbox {
  url: string;
  store: Store;
  close(): Promise<void>;
}

const ROUTES: readonly Route[] = [...tenantRoutes, ...subscriptionRoutes, ...applicationRoutes, ...currentApplicationRoutes, ...inventoryRoutes];

/** The sandbox's HTTP server on 127.0.0.1 only: nothing outside this machine can reach it. */
export async function startSandboxServer(options: SandboxServerOptions): Promise<RunningSandbox> {
  const store = await Store.open(resolve(options.dataDir));
  const core: SandboxCore = { store, baseUrl: "", runtime: createInertRuntime() };
  const server = createServer((req, res) => {
    void handle(req, res, core, options.logger);
  });
  // Large uploads may take minutes; the platform's own request limit is 5 minutes (platform.md §2).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  core.baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: core.baseUrl,
    store,
    close: () => closeServer(server),
  };
}

export function readyDocument(store: Store, url: string, extra: Pick<ReadyDocument, "containers" | "faults" | "uploadLimit">): ReadyDocument {
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

async function handle(req: IncomingMessage, res: ServerResponse, core: SandboxCore, logger: SandboxServerOptions["logger"]): Promise<void> {
  const started = Date.now();
  res.on("finish", () => logger.debug(`${req.method} ${req.url} → ${res.statusCode} (${Date.now() - started}ms)`));
  try {
    const url = new URL(req.url ?? "/", core.baseUrl);
    const match = matchRoute(ROUTES, req.method ?? "GET", url.pathname);
    if (match === undefined) throw new ApiError(404, "general/notFound", `Nothing is served at ${url.pathname}.`);
    if (match === "method-not-allowed") throw new ApiError(405, "general/methodNotAllowed", `${req.method} is not supported on ${url.pathname}.`);
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
