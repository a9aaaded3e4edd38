import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Credentials } from "../src/config.js";

/**
 * A stand-in for the three platform endpoints the service calls, with the platform's auth
 * rules: users sign in as `tenant/user:password` (Basic) or with a bearer token; only the
 * bootstrap user may list the subscriptions.
 */
export interface FakePlatform {
  url: string;
  bootstrap: Credentials;
  /** People who call the service. */
  users: Credentials[];
  /** One per subscribed tenant, as `GET /application/currentApplication/subscriptions` lists them. */
  serviceUsers: Credentials[];
  /** Bearer tokens (as from the `authorization` cookie) and whom they stand for. */
  tokens: Map<string, Credentials>;
  /** Delay before answering /user/currentUser, to keep a request in flight. */
  delayMs: number;
  /** Every request as "METHOD path as tenant/user" (or "anonymous"). */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakePlatform(): Promise<FakePlatform> {
  const platform: Omit<FakePlatform, "url" | "close"> = {
    bootstrap: { tenant: "t100", user: "servicebootstrap_my-service", password: "bootstrap-secret" },
    users: [
      { tenant: "t100", user: "alice", password: "alice-secret" },
      { tenant: "t200", user: "bob", password: "bob-secret" },
      { tenant: "t300", user: "carol", password: "carol-secret" },
    ],
    serviceUsers: [{ tenant: "t100", user: "service_my-service", password: "service-t100" }],
    tokens: new Map(),
    delayMs: 0,
    requests: [],
  };

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const who = authenticate(req.headers.authorization);
    platform.requests.push(`${req.method} ${req.url} as ${who ? `${who.tenant}/${who.user}` : "anonymous"}`);
    if (!who) return json(res, 401, { error: "security/Unauthorized", message: "Invalid credentials!" });
    switch (req.url) {
      case "/user/currentUser":
        await new Promise((resolve) => setTimeout(resolve, platform.delayMs));
        return json(res, 200, { id: who.user, userName: who.user, effectiveRoles: [] });
      case "/tenant/currentTenant":
        return json(res, 200, { name: who.tenant, domainName: `${who.tenant}.example.com` });
      case "/application/currentApplication/subscriptions":
        if (who !== platform.bootstrap) return json(res, 403, { error: "security/Forbidden", message: "Bootstrap user only" });
        return json(res, 200, { users: platform.serviceUsers.map((u) => ({ tenant: u.tenant, name: u.user, password: u.password })) });
      default:
        return json(res, 404, { error: "general/notFound", message: `No ${req.url}` });
    }
  }

  function authenticate(header: string | undefined): Credentials | undefined {
    if (header?.startsWith("Bearer ")) return platform.tokens.get(header.slice("Bearer ".length));
    if (!header?.startsWith("Basic ")) return undefined;
    const decoded = Buffer.from(header.slice("Basic ".length), "base64").toString();
    return [platform.bootstrap, ...platform.users, ...platform.serviceUsers].find(
      (c) => decoded === `${c.tenant}/${c.user}:${c.password}`,
    );
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(platform, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
