import { request, type Dispatcher } from "undici";
import type { ProxyRoute } from "./dispatcher.js";
import { networkError, type NetworkError } from "./errors.js";

export interface ReachOptions {
  dispatcher: Dispatcher;
  proxyFor: (url: URL) => ProxyRoute | undefined;
  /** Where the URL came from ("--url", "C8Y_HOST (environment)"), for the network error's hint. */
  from: string;
  userAgent: string;
  signal: AbortSignal;
}

/** How the platform answered, or why it could not be reached. */
export type Reach = { reached: true; status: number; looksLikeCumulocity: boolean; ms: number } | { reached: false; error: NetworkError };

const REACH_TIMEOUT_MS = 30_000;

/**
 * An unauthenticated call every Cumulocity answers (GET /tenant/loginOptions): whether the URL
 * is reachable, its TLS trusted, and it a Cumulocity platform, before any credentials are used.
 */
export async function reachPlatform(url: URL, options: ReachOptions): Promise<Reach> {
  const target = new URL(url);
  target.pathname = `${url.pathname.replace(/\/$/, "")}/tenant/loginOptions`;
  const started = performance.now();
  try {
    const response = await request(target, {
      dispatcher: options.dispatcher,
      signal: options.signal,
      headers: { accept: "application/json", "user-agent": options.userAgent },
      headersTimeout: REACH_TIMEOUT_MS,
    });
    const text = await response.body.text();
    return { reached: true, status: response.statusCode, looksLikeCumulocity: response.statusCode === 200 && text.includes("loginOptions"), ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (options.signal.aborted) throw error;
    return { reached: false, error: networkError(target, error, options.from, options.proxyFor(target)) };
  }
}
