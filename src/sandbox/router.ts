import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticate, noAuth, type Principal } from "./auth.js";
import { forbidden } from "./http.js";
import type { DataStore } from "./data/store.js";
import type { NotificationHub } from "./notification-hub.js";
import type { RealtimeHub } from "./realtime.js";
import type { ServiceRuntime } from "./runtime.js";
import type { Store } from "./state.js";
import type { LoginThrottle } from "./login-throttle.js";
import type { UploadChecker } from "./upload-check.js";

/** What every route handler may use: the state, the sandbox's own address and its services. */
export interface SandboxCore {
  store: Store;
  /** Managed objects, measurements and the other data APIs, in the embedded database. */
  data: DataStore;
  /** The Notifications 2.0 consumers and what waits for them. */
  notifications: NotificationHub;
  /** The CometD (Bayeux) clients of /notification/realtime and /cep/realtime. */
  realtime: RealtimeHub;
  /** e.g. http://127.0.0.1:8111 — used in `self` links and as C8Y_BASEURL for services. */
  baseUrl: string;
  runtime: ServiceRuntime;
  /** Largest accepted upload (platform.md §2: 500 MB; `--upload-limit` raises it). */
  uploadLimit: number;
  /** The upload checks, run off the server's thread. */
  uploads: UploadChecker;
  /** Failed logins, for the back-off against guessing. */
  logins: LoginThrottle;
}

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  core: SandboxCore;
}

export interface AuthenticatedCall extends Call {
  principal: Principal;
}

interface RouteBase {
  method: string;
  /** `/application/applications/:id` — a `:name` segment matches one path segment. */
  path: string;
  /**
   * The handler streams a body that may take minutes (an upload): it is bounded by idleness
   * only. Every other body must arrive whole within the server's body deadline (server.ts).
   */
  streamsBody?: true;
}

export type Route =
  | (RouteBase & { access: "public"; handle(call: Call): Promise<void> | void })
  | (RouteBase & {
      /**
       * Any of these roles is required (none listed: any authenticated user).
       * "bootstrap" routes are the few a bootstrap user may call (platform.md §4.4); every
       * other route answers a bootstrap user with 403.
       */
      access: "user" | "bootstrap";
      roles?: readonly string[];
      handle(call: AuthenticatedCall): Promise<void> | void;
    });

export interface Match {
  route: Route;
  params: Record<string, string>;
}

/** The route for a request, or why there is none (405 when the path exists for other methods). */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): Match | "method-not-allowed" | undefined {
  const segments = pathname.split("/").filter(Boolean).map(decodeSegment);
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const same = pattern.every((part, i) => {
      const segment = segments[i] ?? "";
      if (part.startsWith(":")) {
        params[part.slice(1)] = segment;
        return true;
      }
      return part === segment;
    });
    if (!same) continue;
    pathMatched = true;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) return { route, params };
  }
  return pathMatched ? "method-not-allowed" : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Authenticates and authorises a call for its route, then runs it. */
export async function runRoute(match: Match, call: Omit<Call, "params">): Promise<void> {
  const { route, params } = match;
  if (route.access === "public") {
    await route.handle({ ...call, params });
    return;
  }
  const principal = authenticate(call.req, call.core.store.state, call.core.logins);
  if (!principal) throw noAuth();
  const kind = principal.user.kind;
  if (kind === "bootstrap" && route.access !== "bootstrap") throw forbidden();
  if (kind !== "bootstrap" && route.roles && !route.roles.some((role) => principal.user.roles.includes(role))) throw forbidden();
  await route.handle({ ...call, params, principal });
}
