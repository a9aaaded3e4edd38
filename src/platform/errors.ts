import { AuthError, CliError, networkErrorCode, type CliErrorOptions, type ErrorCode } from "../errors.js";
import type { ProxyRoute } from "./dispatcher.js";

/** platform.md §3.1: `{"error": "<resource>/<errorName>", "message": "...", "info": "<URL>"}`. */
export interface PlatformErrorBody {
  error?: string;
  message?: string;
}

/** The platform's upload limit (platform.md §2: "Microservice image size — hard — 500 MB"). */
export const PLATFORM_UPLOAD_LIMIT_TEXT = "500 MB";

/** Where the credentials in use came from, so an auth error can say which variable to fix. */
export interface CredentialSource {
  kind: "basic" | "bearer";
  /** e.g. "C8Y_USER (environment)", "--user", "C8Y_TOKEN (.env)". */
  names: string[];
  principal: string;
}

/** What a failed request was for: the message names it, a 403 names the role it needs. */
export interface RequestPurpose {
  /** "create application my-service" */
  action: string;
  /** The role a 403 hint names, e.g. ROLE_APPLICATION_MANAGEMENT_ADMIN. */
  role?: string | undefined;
}

/**
 * The platform answered with an error status. `status` and the platform's own `error` and
 * `message` are kept so callers can react (409 already subscribed, 404 gone).
 */
export class PlatformError extends CliError {
  override readonly code: ErrorCode = "PLATFORM_ERROR";
  readonly status: number;
  readonly platformError: string | undefined;
  readonly platformMessage: string | undefined;

  constructor(status: number, body: PlatformErrorBody | undefined, message: string, options: CliErrorOptions = {}) {
    super(message, options);
    this.status = status;
    this.platformError = body?.error;
    this.platformMessage = body?.message;
  }

  /** 502/503/504 and 429 mean "try again later"; everything else will answer the same. */
  get isRetryable(): boolean {
    return isRetryableStatus(this.status);
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** 401 or 403 from the platform: exit 4 with the variable or role to check. */
export class PlatformAuthError extends AuthError {
  readonly status: number;
  constructor(status: number, message: string, options: CliErrorOptions = {}) {
    super(message, options);
    this.status = status;
  }
}

/** The platform could not be reached or the connection broke: names the URL and the cause. */
export class NetworkError extends CliError {
  override readonly code = "NETWORK_ERROR";
  /** The system or undici error code (ECONNREFUSED, UND_ERR_SOCKET...). */
  readonly errorCode: string | undefined;
  constructor(url: string, cause: string, errorCode: string | undefined, options: CliErrorOptions = {}) {
    super(`Could not reach ${url}: ${cause}.`, options);
    this.errorCode = errorCode;
  }
}

/**
 * The error a user sees for an error status. 422 carries the platform's message verbatim;
 * 401/403 become auth errors naming what to check; 413 explains the upload limit.
 */
export function errorForStatus(status: number, body: PlatformErrorBody | undefined, purpose: RequestPurpose, credentials: CredentialSource): CliError {
  const said = body?.message?.trim();
  const platformSays = said ? `: ${said}` : ".";
  if (status === 401) return unauthorized(said, credentials);
  if (status === 403) {
    const role = purpose.role ? `the role ${purpose.role}` : "the permission for it";
    return new PlatformAuthError(403, `Not allowed to ${purpose.action} (403)${platformSays}`, {
      hint: `${credentials.principal} lacks ${role}. ${grantRoleHint(credentials)}`,
    });
  }
  if (status === 413) {
    return new PlatformError(status, body, `The platform refused the upload as too large (413)${platformSays}`, {
      hint: `The platform accepts zips up to ${PLATFORM_UPLOAD_LIMIT_TEXT}. Shrink the image: a slim or alpine base image, a multi-stage build that leaves build tools behind, production dependencies only (npm ci --omit=dev), and a .dockerignore; then pack again.`,
    });
  }
  if (status === 422) {
    return new PlatformError(status, body, `The platform rejected the request to ${purpose.action} (422)${platformSays}`, {
      hint: "Fix what the platform names above; `c8y-ms validate` checks a project or zip for the platform's rules before you deploy.",
    });
  }
  if (isRetryableStatus(status)) {
    return new PlatformError(status, body, `The platform is unavailable: ${purpose.action} answered ${status}${platformSays}`, {
      hint: "c8y-ms retried with backoff; the platform may be under maintenance or overloaded. Try again in a few minutes.",
    });
  }
  return new PlatformError(status, body, `Could not ${purpose.action} (${status})${platformSays}`, { hint: otherStatusHint(status, credentials) });
}

/** What to do about a missing role, for a 403 or a check before anything is sent. */
export function grantRoleHint(credentials: Pick<CredentialSource, "names">): string {
  return `Ask a tenant administrator to grant it, or use another user (${credentials.names.join(", ")}).`;
}

function otherStatusHint(status: number, credentials: CredentialSource): string {
  if (status >= 500) return "The platform failed; try again, and if it persists contact its operator with the time of the failure.";
  if (status === 404) return `Check the names and tenant ids in the command (they are case-sensitive), and that ${credentials.principal} can see them.`;
  if (status === 409) return "It conflicts with what the platform has already; the platform's message above says what.";
  return "Fix what the platform names above, then run the command again.";
}

function unauthorized(said: string | undefined, credentials: CredentialSource): PlatformAuthError {
  if (said && /\bTFA\b/i.test(said)) {
    return new PlatformAuthError(401, `${credentials.principal} must log in with two-factor authentication (${said}); a password alone cannot do that.`, {
      hint: "Set C8Y_TOKEN to a bearer token instead of C8Y_USER/C8Y_PASSWORD: get one with your TFA code from POST /tenant/oauth/token (or `c8y sessions login`), or use a user without two-factor authentication for CI.",
    });
  }
  const check =
    credentials.kind === "bearer"
      ? `The token (${credentials.names.join(", ")}) is invalid or expired; get a new one.`
      : `Check ${credentials.names.join(", ")}: the user, its password and the tenant id must match.`;
  return new PlatformAuthError(401, `The platform rejected the credentials of ${credentials.principal} (401)${said ? `: ${said}` : "."}`, { hint: check });
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;


/**
 * A network failure in words: what happened to the connection to `url` (or to the proxy in
 * between), and what to check.
 */
export function networkError(url: URL, error: unknown, urlSource: string, proxy?: ProxyRoute): NetworkError {
  const code = networkErrorCode(error);
  const detail = (error as Error | undefined)?.message;
  const viaProxy = proxy && code ? proxyNetworkError(url, proxy, code) : undefined;
  if (viaProxy) return viaProxy;
  const where = url.host;
  // https:// (assumed when no scheme is given) to a server that speaks plain HTTP.
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || (code === "EPROTO" && /wrong version number/i.test(detail ?? ""))) {
    return new NetworkError(url.toString(), `${where} does not speak HTTPS (${code})`, code, {
      hint: `If it serves plain HTTP (as c8y-ms sandbox does), write http:// in the platform URL (${urlSource}); https:// is assumed when no scheme is given.`,
      cause: error,
    });
  }
  const causes: Record<string, string> = {
    ECONNREFUSED: `connection refused by ${where}: nothing listens there`,
    ENOTFOUND: `the host name ${url.hostname} was not found`,
    EAI_AGAIN: `looking up ${url.hostname} failed (DNS unavailable)`,
    ECONNRESET: "the connection was reset",
    EPIPE: "the connection was closed while sending",
    UND_ERR_SOCKET: "the connection was closed by the other side",
    ETIMEDOUT: "the connection timed out",
    UND_ERR_CONNECT_TIMEOUT: `connecting to ${where} timed out`,
    UND_ERR_HEADERS_TIMEOUT: "the platform did not answer in time",
    UND_ERR_BODY_TIMEOUT: "the platform stopped sending its answer",
    EHOSTUNREACH: `${where} is unreachable`,
    ENETUNREACH: "the network is unreachable",
  };
  // undici reports a proxy that will not open the tunnel only in its message.
  const proxyStatus = /Proxy response \((\d+)\)/.exec(detail ?? "")?.[1];
  const known = proxyStatus ? `the proxy answered ${proxyStatus} instead of opening a connection` : code ? causes[code] : undefined;
  const cause = known ? `${known}${code ? ` (${code})` : ""}` : `${detail ?? "unknown error"}${code ? ` (${code})` : ""}`;
  const tls = code !== undefined && TLS_CODES.test(code);
  const hint = proxyStatus
    ? proxyStatus === "407"
      ? "The proxy wants credentials: put them in the proxy URL, e.g. HTTPS_PROXY=http://user:password@proxy:3128."
      : "Check HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for hosts to reach directly."
    : tls
    ? "The platform's TLS certificate is not trusted. If it is signed by a private CA, set NODE_EXTRA_CA_CERTS to that CA's PEM file."
    : code === "ENOTFOUND"
      ? `Check the platform URL (${urlSource}).`
      : `Check the platform URL (${urlSource}) and your network; behind a proxy, set HTTPS_PROXY (and NO_PROXY for hosts to reach directly).`;
  return new NetworkError(url.toString(), cause, code, { hint, cause: error });
}

/** Failures of the TCP connection itself, which through a proxy are the proxy's; undefined for others. */
function proxyNetworkError(url: URL, proxy: ProxyRoute, code: string): NetworkError | undefined {
  const where = hostOf(proxy.url);
  const causes: Record<string, string> = {
    ECONNREFUSED: `the proxy ${where} (${proxy.variable}) refused the connection: nothing listens there`,
    ENOTFOUND: `the proxy's host name in ${proxy.variable} was not found`,
    EAI_AGAIN: `looking up the proxy's host name in ${proxy.variable} failed (DNS unavailable)`,
    UND_ERR_CONNECT_TIMEOUT: `connecting to the proxy ${where} (${proxy.variable}) timed out`,
    EHOSTUNREACH: `the proxy ${where} (${proxy.variable}) is unreachable`,
    ENETUNREACH: `the network to the proxy ${where} (${proxy.variable}) is unreachable`,
  };
  const cause = causes[code];
  if (!cause) return undefined;
  return new NetworkError(url.toString(), `${cause} (${code})`, code, {
    hint: `Check ${proxy.variable} (${proxy.url}); to reach ${url.hostname} without the proxy, add it to NO_PROXY.`,
  });
}

function hostOf(proxyUrl: string): string {
  try {
    return new URL(proxyUrl).host;
  } catch {
    return proxyUrl;
  }
}
