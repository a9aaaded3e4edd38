import { setTimeout as sleep } from "node:timers/promises";
import { request, type Dispatcher } from "undici";
import { CancelledError, CliError, networkErrorCode } from "../errors.js";
import type { Redactor } from "../secrets.js";
import type { Logger } from "../ui/logger.js";
import { authorization, basicPrincipal, type Connection } from "./connection.js";
import { DEFAULT_HEADERS_TIMEOUT_MS, type ProxyRoute } from "./dispatcher.js";
import { errorForStatus, isRetryableStatus, networkError, type PlatformErrorBody, type RequestPurpose } from "./errors.js";
import { classifyNetworkCode, DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay, type FailureKind, type RetryPolicy } from "./retry.js";

/** A request body that can be produced again for a retry (a stream can be read only once). */
export interface BodySource {
  headers: Record<string, string>;
  open(): AsyncIterable<Uint8Array> | string;
}

export interface PlatformRequest extends RequestPurpose {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path below the base URL, e.g. `/application/applications/12`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** A JSON body, sent as `contentType` (default application/json). */
  json?: unknown;
  contentType?: string;
  body?: BodySource;
  /**
   * Safe to send twice (GET, PUT, DELETE, and POSTs whose repeat is harmless). Other requests
   * are retried only when they cannot have arrived, or when `landed` says they did not.
   */
  idempotent?: boolean;
  /**
   * After an ambiguous failure (connection reset, gateway error, timeout): did the previous
   * attempt take effect? Returns the resulting body when it did, undefined when it did not.
   */
  landed?: () => Promise<unknown>;
  /** Statuses returned to the caller instead of thrown (409 already subscribed, 404 gone). */
  allow?: readonly number[];
  headersTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Aborts this request alone; its reason is what `send` throws. */
  signal?: AbortSignal | undefined;
}

export interface PlatformResponse {
  status: number;
  body: unknown;
  /** True when the request failed but `landed` found that it took effect. */
  recovered: boolean;
}

export interface ClientOptions {
  connection: Connection;
  dispatcher: Dispatcher;
  /** The proxy requests to a URL go through (connection errors then name it). */
  proxyFor?: ((url: URL) => ProxyRoute | undefined) | undefined;
  logger: Pick<Logger, "debug" | "warn">;
  redactor: Redactor;
  /** Sent with every request (`userAgent(version)`). */
  userAgent: string;
  signal?: AbortSignal | undefined;
  retry?: Partial<RetryPolicy>;
  /** Injected in tests so retries do not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** `c8y-ms/<version> (node <version>; <platform>)`: lets platform operators see who calls. */
export function userAgent(version: string): string {
  return `c8y-ms/${version} (node ${process.versions.node}; ${process.platform})`;
}

/**
 * The platform's REST API over undici: authentication, JSON, retries with backoff, and
 * errors a user can act on. It knows nothing of files or manifests; the calls that use it
 * live beside it (applications, binaries, tenants, status).
 */
export class PlatformClient {
  readonly connection: Connection;
  #tenant: string | undefined;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.connection = options.connection;
    this.#tenant = options.connection.tenant;
    this.#registerSecrets();
  }

  get baseUrl(): URL {
    return this.connection.baseUrl;
  }

  /** The tenant id, once known from the connection or looked up. */
  get tenant(): string | undefined {
    return this.#tenant;
  }

  /** Who we are in messages: `t12345/admin`, or "the token". */
  get principal(): string {
    const credentials = this.connection.credentials;
    return credentials.kind === "basic" ? basicPrincipal(credentials.user, this.#tenant) : "the token";
  }

  /** From now on Basic auth names the tenant, as the platform documents it (platform.md §3.2). */
  useTenant(tenant: string): void {
    this.#tenant = tenant;
    this.#registerSecrets();
  }

  url(path: string, query: PlatformRequest["query"] = {}): URL {
    const url = new URL(this.baseUrl);
    url.pathname = `${this.baseUrl.pathname.replace(/\/$/, "")}${path}`;
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /** Sends `spec`, retrying transient failures; throws a CliError for anything not allowed. */
  async send(spec: PlatformRequest): Promise<PlatformResponse> {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...this.#options.retry, ...spec.retry };
    const idempotent = spec.idempotent ?? spec.method !== "POST";
    const url = this.url(spec.path, spec.query);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(spec, url);
      if (outcome.kind === "response") return { status: outcome.status, body: outcome.body, recovered: false };

      let kind: FailureKind = outcome.failure;
      if (kind !== "permanent" && !idempotent) {
        // A repeated upload or create must not happen twice: ask the platform whether the
        // failed attempt took effect before sending it again.
        if (spec.landed) {
          const landed = await spec.landed().catch(() => {
            throw outcome.error;
          });
          if (landed !== undefined) {
            this.#options.logger.warn(`${spec.method} ${url.pathname} failed (${outcome.reason}), but the platform shows that it took effect.`);
            return { status: 200, body: landed, recovered: true };
          }
        } else if (kind === "ambiguous") kind = "permanent";
      }
      const tooLong = outcome.retryAfterMs !== undefined && outcome.retryAfterMs > policy.maxRetryAfterMs;
      if (kind === "permanent" || attempt >= policy.attempts || tooLong) throw outcome.error;

      const delay = retryDelay(policy, attempt, outcome.retryAfterMs);
      this.#options.logger.warn(`${spec.method} ${url.pathname}: ${outcome.reason}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${policy.attempts}).`);
      await this.#sleep(delay);
    }
  }

  /** `send` and return the parsed JSON body. */
  async json<T>(spec: PlatformRequest): Promise<T> {
    return (await this.send(spec)).body as T;
  }

  async #attempt(spec: PlatformRequest, url: URL): Promise<Attempt> {
    const started = performance.now();
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: authorization(this.connection.credentials, this.#tenant),
      "user-agent": this.#options.userAgent,
    };
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (spec.json !== undefined) {
      headers["content-type"] = spec.contentType ?? "application/json";
      body = JSON.stringify(spec.json);
    } else if (spec.body) {
      Object.assign(headers, spec.body.headers);
      body = spec.body.open();
    }
    const log = (status: string) => this.#options.logger.debug(`${spec.method} ${url} → ${status} (${Math.round(performance.now() - started)} ms)`);

    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: spec.method,
        headers,
        // undici documents async iterables as bodies (docs/api/Dispatcher.md); its types lag behind.
        body: body as string | undefined,
        dispatcher: this.#options.dispatcher,
        signal: combineSignals(this.#options.signal, spec.signal),
        headersTimeout: spec.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      });
    } catch (error) {
      if (this.#options.signal?.aborted) throw new CancelledError();
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (error instanceof CliError) throw error;
      const code = networkErrorCode(error);
      log(`failed: ${code ?? (error as Error).message}`);
      return { kind: "failure", failure: classifyNetworkCode(code), reason: code ?? "network error", error: networkError(url, error, this.connection.urlFrom, this.#options.proxyFor?.(url)) };
    }

    const text = await response.body.text().catch(() => "");
    const status = response.statusCode;
    log(String(status));
    const parsed = parseJson(text);
    if (status < 400 || spec.allow?.includes(status)) return { kind: "response", status, body: parsed };

    const error = errorForStatus(status, errorBody(parsed, text), spec, { ...this.connection.source, principal: this.principal });
    if (!isRetryableStatus(status)) return { kind: "failure", failure: "permanent", reason: String(status), error };
    const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
    // 429 and 503 say the platform did not take the request on; 502 and 504 may come after it did.
    const failure: FailureKind = status === 429 || status === 503 ? "not-sent" : "ambiguous";
    const waitNote = retryAfterMs !== undefined ? `; the platform asks to wait ${Math.ceil(retryAfterMs / 1000)}s` : "";
    return { kind: "failure", failure, reason: `answered ${status}${waitNote}`, error, retryAfterMs };
  }

  #registerSecrets(): void {
    const credentials = this.connection.credentials;
    if (credentials.kind === "bearer") this.#options.redactor.add(credentials.token);
    else this.#options.redactor.addBasicAuth(basicPrincipal(credentials.user, this.#tenant), credentials.password);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#options.sleep) return this.#options.sleep(ms);
    return sleep(ms, undefined, { signal: this.#options.signal }).catch(() => {
      throw new CancelledError();
    });
  }
}

type Attempt =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "failure"; failure: FailureKind; reason: string; error: CliError; retryAfterMs?: number | undefined };

function combineSignals(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length > 1 ? AbortSignal.any(present) : present[0];
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The platform's `{error, message}`; a proxy's HTML page is summarised, not dumped. */
function errorBody(parsed: unknown, text: string): PlatformErrorBody | undefined {
  if (typeof parsed === "object" && parsed !== null) {
    const { error, message } = parsed as Record<string, unknown>;
    return { error: typeof error === "string" ? error : undefined, message: typeof message === "string" ? message : undefined };
  }
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return plain ? { message: plain.length > 200 ? `${plain.slice(0, 200)}…` : plain } : undefined;
}
