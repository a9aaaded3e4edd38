import type { Credentials } from "./config.js";

/**
 * The few platform calls this service makes, on Node's built-in fetch. See README.md
 * ("Why no @c8y/client") for when to switch to the official client.
 */

/** How a request authenticates: the caller's own headers, or a service user's Basic auth. */
export type Auth = { headers: Record<string, string> };

export interface CurrentUser {
  userName: string;
  effectiveRoles?: { id: string }[];
}

export interface CurrentTenant {
  /** The tenant id, e.g. t12345. */
  name: string;
  domainName?: string;
}

/** The platform answered with an error status, or could not be reached (status 0). */
export class PlatformError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const TIMEOUT_MS = 10_000;

export function basicAuth(credentials: Credentials): Auth {
  const token = Buffer.from(`${credentials.tenant}/${credentials.user}:${credentials.password}`).toString("base64");
  return { headers: { authorization: `Basic ${token}` } };
}

/**
 * The caller's credentials as the gateway forwarded them: an Authorization header, or the
 * browser's `authorization` cookie turned into a bearer token (the XSRF check only protects
 * cookies). The two-factor header goes along when present. Undefined when there are none.
 */
export function callerAuth(headers: Record<string, string | string[] | undefined>): Auth | undefined {
  const forwarded: Record<string, string> = {};
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const authorization = header("authorization");
  const cookieToken = /(?:^|;\s*)authorization=([^;]+)/.exec(header("cookie") ?? "")?.[1];
  if (authorization) forwarded.authorization = authorization;
  else if (cookieToken) forwarded.authorization = `Bearer ${cookieToken}`;
  else return undefined;
  const tfa = header("tfatoken");
  if (tfa) forwarded.tfatoken = tfa;
  return { headers: forwarded };
}

export class Platform {
  readonly #baseUrl: string;
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  currentUser(auth: Auth): Promise<CurrentUser> {
    return this.#get("/user/currentUser", auth);
  }

  currentTenant(auth: Auth): Promise<CurrentTenant> {
    return this.#get("/tenant/currentTenant", auth);
  }

  /** MULTI_TENANT: the service user of every subscribed tenant, read with the bootstrap user. */
  async serviceUsers(bootstrap: Credentials): Promise<Credentials[]> {
    const body = await this.#get<{ users?: { tenant: string; name: string; password: string }[] }>(
      "/application/currentApplication/subscriptions",
      basicAuth(bootstrap),
    );
    return (body.users ?? []).map((u) => ({ tenant: u.tenant, user: u.name, password: u.password }));
  }

  async #get<T>(path: string, auth: Auth): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        headers: { accept: "application/json", ...auth.headers },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new PlatformError(0, `GET ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as { message?: string } | undefined;
      throw new PlatformError(response.status, `GET ${path} answered ${response.status}${body?.message ? `: ${body.message}` : ""}`);
    }
    return (await response.json()) as T;
  }
}
