/**
 * When and how long to wait before trying a platform call again. Pure, so the schedule is
 * unit-tested; the client does the waiting.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails and says how long. */
  maxRetryAfterMs: number;
  /** 0 <= random() < 1; injected for tests. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

/**
 * Exponential backoff with jitter: the n-th retry waits between half and all of
 * base * 2^(n-1), capped; spreading retries stops many CI jobs from hammering a recovering
 * platform in step. A Retry-After from the platform is a floor.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = exponential * (0.5 + policy.random() / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Failures where the request cannot have reached the platform: safe to send again, whatever it does. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);
/** Failures after the request may have arrived: a retry must not repeat an effect. */
const BROKEN_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CLOSED"]);

export type FailureKind = "not-sent" | "ambiguous" | "permanent";

/** How a network error code bears on retrying. ENOTFOUND and TLS failures will not go away by themselves. */
export function classifyNetworkCode(code: string | undefined): FailureKind {
  if (code && NOT_SENT_CODES.has(code)) return "not-sent";
  if (code && BROKEN_CODES.has(code)) return "ambiguous";
  return "permanent";
}
