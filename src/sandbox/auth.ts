import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError, unauthenticated } from "./http.js";
import type { LoginThrottle } from "./login-throttle.js";
import type { SandboxState, UserRecord } from "./state.js";

/** Who is calling, and how they proved it. */
export interface Principal {
  user: UserRecord;
  tenant: string;
  via: "basic" | "bearer" | "cookie";
}

/** The platform's answer to wrong credentials (seen verbatim in client test suites). */
export const BAD_CREDENTIALS = "Invalid credentials! : Bad credentials";
/** platform.md §3.2: what a two-factor user gets when logging in without a code. */
export const TFA_REQUIRED = "TFA TOTP code required";
/** platform.md §3.1/§4.3: the body of a call without any credentials. */
export const noAuth = () => new ApiError(401, "general/internalError", "No auth information found");

/** Platform tokens live about two weeks; a sandbox token as long, so long test runs never see one expire. */
const TOKEN_LIFETIME_SECONDS = 14 * 24 * 3600;

/**
 * The caller of `req`, or undefined when it carries no credentials at all.
 * @throws {ApiError} 401 when credentials are present but wrong
 */
export function authenticate(req: IncomingMessage, state: SandboxState, logins: LoginThrottle): Principal | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const [scheme = "", value = ""] = header.trim().split(/\s+/, 2);
    if (/^basic$/i.test(scheme)) return basic(value, state, logins);
    if (/^bearer$/i.test(scheme)) return bearer(value, state, "bearer");
    throw unauthenticated(BAD_CREDENTIALS);
  }
  const cookie = parseCookies(req.headers.cookie).authorization;
  if (cookie !== undefined) {
    const principal = bearer(cookie, state, "cookie");
    // OAI-Secure: the cookie alone is not enough, the XSRF token must come back as a header.
    const claims = decodeToken(cookie, state.tokenSecret);
    const xsrf = req.headers["x-xsrf-token"];
    if (typeof xsrf !== "string" || claims?.xsrf !== xsrf) throw unauthenticated("Missing or invalid XSRF token");
    return principal;
  }
  return undefined;
}

function basic(value: string, state: SandboxState, logins: LoginThrottle): Principal {
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw unauthenticated(BAD_CREDENTIALS);
  const login = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  logins.check(login);
  const user = findLogin(state, login, password);
  if (!user) {
    logins.failed(login);
    throw unauthenticated(BAD_CREDENTIALS);
  }
  logins.succeeded(login);
  if (user.totpSecret) throw unauthenticated(TFA_REQUIRED);
  return { user, tenant: user.tenant, via: "basic" };
}

/**
 * `tenant/user` or a bare `user`. The platform resolves a bare user through the domain it was
 * called on; the sandbox has one address for all tenants, so a bare user name is accepted
 * when exactly one user of that name has this password (DERIVED, platform.md §3.2).
 */
export function findLogin(state: SandboxState, login: string, password: string, tenant?: string): UserRecord | undefined {
  const slash = login.indexOf("/");
  const wantedTenant = slash >= 0 ? login.slice(0, slash) : tenant;
  const name = slash >= 0 ? login.slice(slash + 1) : login;
  const matches = state.users.filter(
    (u) => u.name === name && (wantedTenant === undefined || u.tenant === wantedTenant) && sameSecret(u.password, password),
  );
  return matches.length === 1 ? matches[0] : undefined;
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

interface TokenClaims {
  ten: string;
  sub: string;
  iat: number;
  exp: number;
  xsrf: string;
}

function bearer(token: string, state: SandboxState, via: "bearer" | "cookie"): Principal {
  const claims = decodeToken(token, state.tokenSecret);
  if (!claims || claims.exp * 1000 < Date.now()) throw unauthenticated(BAD_CREDENTIALS);
  const user = state.users.find((u) => u.tenant === claims.ten && u.name === claims.sub);
  // A token of a deleted user (e.g. a service user after unsubscribe) is no longer valid.
  if (!user) throw unauthenticated(BAD_CREDENTIALS);
  return { user, tenant: user.tenant, via };
}

/** A JWT (HS256) like the platform's OAI-Secure tokens, signed with the data directory's secret. */
export function issueToken(user: UserRecord, secret: string): { token: string; xsrf: string } {
  const now = Math.floor(Date.now() / 1000);
  const xsrf = randomBytes(16).toString("hex");
  const claims: TokenClaims = { ten: user.tenant, sub: user.name, iat: now, exp: now + TOKEN_LIFETIME_SECONDS, xsrf };
  const head = base64url({ alg: "HS256", typ: "JWT" });
  const body = base64url(claims);
  return { token: `${head}.${body}.${sign(`${head}.${body}`, secret)}`, xsrf };
}

function decodeToken(token: string, secret: string): TokenClaims | undefined {
  const [head, body, signature] = token.split(".");
  if (!head || !body || !signature) return undefined;
  if (!sameSecret(sign(`${head}.${body}`, secret), signature)) return undefined;
  try {
    return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return undefined;
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function sign(data: string, secret: string): string {
  return createHmac("sha256", secret).update(data).digest("base64url");
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) cookies[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return cookies;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits), the algorithm of authenticator apps. */
export function totpCode(secret: string, at = Date.now()): string {
  let bits = "";
  for (const char of secret.toUpperCase()) bits += BASE32.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = (digest[digest.length - 1] ?? 0) & 0xf;
  const value = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 1_000_000).padStart(6, "0");
}

/** One step of clock drift either way, as authenticator servers usually allow. */
export function totpMatches(secret: string, code: string, at = Date.now()): boolean {
  return [-30_000, 0, 30_000].some((drift) => totpCode(secret, at + drift) === code);
}
