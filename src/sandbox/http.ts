import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the platform's error bodies point (platform.md §3.1, seen in real 401 bodies). */
export const ERROR_INFO = "https://www.cumulocity.com/guides/reference-guide/#error_reporting";

/**
 * An error the platform answers with `{error, message, info}` (platform.md §3.1). `error`
 * is `<resource>/<errorName>`; where the real platform's exact name is unknown we use the
 * resource the request addressed and the HTTP reason, and say so beside the throw.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

export const unauthenticated = (message: string) => new ApiError(401, "security/Unauthorized", message);
/** Spring Security's text, which the platform passes through for missing roles. */
export const forbidden = () => new ApiError(403, "security/Forbidden", "Access is denied");
export const notFound = (error: string, message: string) => new ApiError(404, error, message);
export const invalidData = (error: string, message: string) => new ApiError(422, error, message);

/**
 * `application/vnd.com.nsn.cumulocity.<type>+json;charset=UTF-8;ver=0.9` unless the client
 * asked only for plain JSON, which every tool examined accepts (platform.md §3.1).
 */
export function mediaType(type: string, accept: string | undefined): string {
  const vendor = `application/vnd.com.nsn.cumulocity.${type}+json;charset=UTF-8;ver=0.9`;
  if (accept && !accept.includes("vnd.com.nsn.cumulocity") && !accept.includes("*/*") && accept.includes("application/json")) {
    return "application/json;charset=UTF-8";
  }
  return vendor;
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // Legacy reference: POST and PUT without an Accept header answer with an empty body
  // (platform.md §3.1). Tools that forget Accept must cope, so the sandbox does it too.
  const bodyless = status === 204 || ((req.method === "POST" || req.method === "PUT") && req.headers.accept === undefined);
  if (bodyless) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      ...headers,
      "content-type": mediaType(type, req.headers.accept),
      "content-length": String(Buffer.byteLength(text)),
    })
    .end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: error.error, message: error.message, info: ERROR_INFO });
  res
    .writeHead(error.status, {
      ...error.headers,
      "content-type": "application/vnd.com.nsn.cumulocity.error+json;charset=UTF-8;ver=0.9",
      "content-length": String(Buffer.byteLength(text)),
    })
    .end(text);
}

/** Small request bodies (JSON, forms). Uploads never come through here: they stream to disk. */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // destroyOnReturn: false keeps the connection when we stop early, so the 413 reaches the client.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, "general/requestEntityTooLarge", `Request body larger than ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A JSON object body. The exact texts for unparsable bodies are not documented; ours name the cause. */
export async function readJsonObject(req: IncomingMessage, limit?: number): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  if (type !== "" && !/json/i.test(type)) {
    throw new ApiError(415, "general/unsupportedMediaType", `Content type ${type} is not supported; send application/json.`);
  }
  const text = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "general/badRequest", "Could not parse the request body as JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "general/badRequest", "The request body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  statistics: { currentPage: number; pageSize: number; totalPages?: number; totalElements?: number };
  self: string;
  next?: string;
  prev?: string;
}

const DEFAULT_PAGE_SIZE = 5;
const MAX_PAGE_SIZE = 2000;

export interface Paging {
  pageSize: number;
  currentPage: number;
  /** Rows to skip: where SQL's OFFSET starts. */
  offset: number;
  withTotalPages: boolean;
  withTotalElements: boolean;
}

/**
 * Paging as platform.md §3.1 describes it: `pageSize` (default 5, max 2000), `currentPage`
 * from 1, totals only when asked for. "Any larger requested page size is trimmed to the upper
 * limit" (legacy REST reference, docs/platform-evidence.md §9).
 */
export function readPaging(url: URL): Paging {
  const pageSize = Math.min(positiveInt(url.searchParams.get("pageSize"), "pageSize") ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const currentPage = positiveInt(url.searchParams.get("currentPage"), "currentPage") ?? 1;
  return {
    pageSize,
    currentPage,
    offset: (currentPage - 1) * pageSize,
    withTotalPages: url.searchParams.get("withTotalPages") === "true",
    withTotalElements: url.searchParams.get("withTotalElements") === "true",
  };
}

/** One page of a collection whose items were already cut to the page (in memory or by SQL). */
export function pageOf<T>(items: T[], url: URL, paging: Paging, total?: number): Page<T> {
  const { pageSize, currentPage } = paging;
  const statistics: Page<T>["statistics"] = { currentPage, pageSize };
  if (total !== undefined && paging.withTotalPages) statistics.totalPages = Math.max(1, Math.ceil(total / pageSize));
  if (total !== undefined && paging.withTotalElements) statistics.totalElements = total;
  const link = (page: number) => {
    const target = new URL(url);
    target.searchParams.set("pageSize", String(pageSize));
    target.searchParams.set("currentPage", String(page));
    return target.toString();
  };
  const page: Page<T> = { items, statistics, self: link(currentPage) };
  // The platform offers `next` on every page, also a short last one (a recorded collection:
  // docs/platform-evidence.md §9).
  page.next = link(currentPage + 1);
  if (currentPage > 1) page.prev = link(currentPage - 1);
  return page;
}

/** Paging of a list held in memory (applications, tenants, subscriptions). */
export function paginate<T>(all: readonly T[], url: URL): Page<T> {
  const paging = readPaging(url);
  return pageOf(all.slice(paging.offset, paging.offset + paging.pageSize), url, paging, all.length);
}

function positiveInt(value: string | null, name: string): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new ApiError(422, "general/invalidParameter", `${name} must be a positive whole number, got '${value}'.`);
  }
  return Number(value);
}

/** A collection body: `{<key>: items, self, next?, prev?, statistics}`. */
export function collection<T>(key: string, page: Page<T>): Record<string, unknown> {
  const body: Record<string, unknown> = { [key]: page.items, self: page.self, statistics: page.statistics };
  if (page.next) body.next = page.next;
  if (page.prev) body.prev = page.prev;
  return body;
}
