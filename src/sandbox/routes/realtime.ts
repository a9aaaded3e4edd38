import { ApiError, readBody } from "../http.js";
import type { BayeuxMessage } from "../realtime.js";
import type { AuthenticatedCall, Route } from "../router.js";

/**
 * The Bayeux endpoints (c8y-docs "Real-time notifications"): CometD's long-polling transport
 * POSTs arrays of messages, by default to the URL with the message type appended
 * (`/notification/realtime/handshake`, `/connect`, ...). The caller authenticates every request
 * as for any API; channels check their API's READ role (realtime.ts).
 */
async function bayeux(call: AuthenticatedCall): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readBody(call.req));
  } catch {
    throw new ApiError(400, "general/badRequest", "A Bayeux request is a JSON array of messages.");
  }
  const messages = (Array.isArray(parsed) ? parsed : [parsed]).filter((m): m is BayeuxMessage => typeof m === "object" && m !== null);
  const gone = new AbortController();
  call.res.on("close", () => gone.abort());
  const replies = await call.core.realtime.handle(call.principal, messages, gone.signal);
  if (call.res.destroyed) return;
  const text = JSON.stringify(replies);
  call.res.writeHead(200, { "content-type": "application/json;charset=UTF-8", "content-length": String(Buffer.byteLength(text)) }).end(text);
}

export const realtimeRoutes: Route[] = ["/notification/realtime", "/cep/realtime"].flatMap((base) => [
  { method: "POST", path: base, access: "user", handle: bayeux },
  { method: "POST", path: `${base}/:messageType`, access: "user", handle: bayeux },
]);
