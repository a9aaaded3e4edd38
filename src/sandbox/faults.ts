import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, readBody, sendError } from "./http.js";

/**
 * Fault injection for tests (only with `--faults`; TEAM.md part C). Rules are set with
 * `PUT /__sandbox/faults {"rules": [...]}`, removed with `DELETE /__sandbox/faults`, and
 * read back (with how often each fired) with `GET /__sandbox/faults`.
 * `GET /__sandbox/requests` lists the requests the sandbox answered, so a test can check
 * what a client sent (e.g. that it retried once, or did not upload twice).
 */
export interface FaultRule {
  /** Any method when absent. */
  method?: string;
  /** `*` matches one path segment, `**` any number; the query string is ignored. */
  path: string;
  /** Answer with this status and the platform's error body. */
  status?: number;
  message?: string;
  /** Wait this long first (then apply the status or reset, or serve normally). */
  delayMs?: number;
  /** Cut the connection without an answer... */
  reset?: boolean;
  /** ...after this many request body bytes arrived (default 0: at once). */
  afterBytes?: number;
  /** Fire at most this often (default: always). */
  times?: number;
}

interface ActiveRule extends FaultRule {
  fired: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  at: string;
}

const MAX_RECORDS = 1000;

export class Faults {
  #rules: ActiveRule[] = [];
  readonly requests: RequestRecord[] = [];

  record(entry: RequestRecord): void {
    this.requests.push(entry);
    if (this.requests.length > MAX_RECORDS) this.requests.shift();
  }

  /** The control endpoints; true when `req` was one of them. */
  async control(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname === "/__sandbox/faults") {
      if (req.method === "PUT") {
        this.#rules = parseRules(await readBody(req)).map((rule) => ({ ...rule, fired: 0 }));
        res.writeHead(204).end();
      } else if (req.method === "DELETE") {
        this.#rules = [];
        res.writeHead(204).end();
      } else if (req.method === "GET") {
        sendPlainJson(res, { rules: this.#rules });
      } else {
        throw new ApiError(405, "general/methodNotAllowed", "Use GET, PUT or DELETE on /__sandbox/faults.");
      }
      return true;
    }
    if (pathname === "/__sandbox/requests") {
      if (req.method === "DELETE") {
        this.requests.length = 0;
        res.writeHead(204).end();
      } else {
        sendPlainJson(res, { requests: this.requests });
      }
      return true;
    }
    return false;
  }

  /**
   * Applies the first rule that matches and still may fire.
   * @returns true when the fault answered (or cut) the request, false to serve it normally
   */
  async inject(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const rule = this.#rules.find((r) => (r.times === undefined || r.fired < r.times) && matches(r, req.method ?? "GET", pathname));
    if (!rule) return false;
    rule.fired++;
    if (rule.delayMs) await sleep(rule.delayMs);
    if (rule.reset) {
      await resetAfter(req, rule.afterBytes ?? 0);
      return true;
    }
    if (rule.status !== undefined) {
      const reason = STATUS_CODES[rule.status] ?? "Error";
      sendError(res, new ApiError(rule.status, "general/injectedFault", rule.message ?? `${reason} (injected by the sandbox)`));
      return true;
    }
    return false;
  }
}

function matches(rule: FaultRule, method: string, pathname: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  return pathPattern(rule.path).test(pathname);
}

export function pathPattern(pattern: string): RegExp {
  const escaped = pattern
    .split("/")
    .map((segment) => (segment === "**" ? "\u0000" : segment === "*" ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/")
    .replace("/\u0000", "(?:/.*)?");
  return new RegExp(`^${escaped}/?$`);
}

/** Reads `afterBytes` of the body (or all of it, if shorter), then drops the connection. */
async function resetAfter(req: IncomingMessage, afterBytes: number): Promise<void> {
  let received = 0;
  if (afterBytes > 0) {
    for await (const chunk of req.iterator({ destroyOnReturn: false })) {
      received += (chunk as Buffer).length;
      if (received >= afterBytes) break;
    }
  }
  req.socket.resetAndDestroy();
}

function parseRules(text: string): FaultRule[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, "general/badRequest", 'Send {"rules": [...]} as JSON.');
  }
  const rules = (body as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) throw new ApiError(400, "general/badRequest", 'Send {"rules": [...]} as JSON.');
  return rules.map((rule: unknown, index) => {
    const r = rule as Partial<FaultRule>;
    const bad = (why: string) => new ApiError(400, "general/badRequest", `Rule ${index}: ${why}`);
    if (typeof r !== "object" || r === null || typeof r.path !== "string" || !r.path.startsWith("/")) throw bad("path must start with '/'.");
    if (r.status !== undefined && !(Number.isInteger(r.status) && r.status >= 100 && r.status <= 599)) throw bad("status must be an HTTP status code.");
    for (const field of ["delayMs", "afterBytes", "times"] as const) {
      const value = r[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw bad(`${field} must be a whole number >= 0.`);
    }
    if (r.status === undefined && !r.reset && !r.delayMs) throw bad("give a status, reset or delayMs.");
    return r as FaultRule;
  });
}

function sendPlainJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }).end(text);
}
