import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * Notifications 2.0 tokens (OpenAPI Tokens): a JWT naming the subscriber and the subscription
 * (as `topic`, `<tenant>/relnotif/<subscription>` or `.../nonpersistent/...` like the
 * platform's), valid `expiresInMinutes` (default 1440), optionally `shared` between
 * consumers. Signed (HS256) with the data directory's secret, so it survives a restart.
 */

export interface NotificationClaims {
  tenant: string;
  subscriber: string;
  subscription: string;
  shared: boolean;
  nonPersistent: boolean;
  /** Seconds since the epoch. */
  exp: number;
}

interface Payload {
  sub: string;
  topic: string;
  jti: string;
  iat: number;
  exp: number;
  shared: boolean;
}

const TOPIC = /^([^/]+)\/(relnotif|nonpersistent)\/(.+)$/;

export function issueNotificationToken(claims: Omit<NotificationClaims, "exp">, minutes: number, secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Payload = {
    sub: claims.subscriber,
    topic: `${claims.tenant}/${claims.nonPersistent ? "nonpersistent" : "relnotif"}/${claims.subscription}`,
    jti: randomUUID(),
    iat: now,
    exp: now + minutes * 60,
    shared: claims.shared,
  };
  const head = encode({ alg: "HS256", typ: "JWT" });
  const body = encode(payload);
  return `${head}.${body}.${sign(`${head}.${body}`, secret)}`;
}

/** The claims of a valid, unexpired token; undefined for anything else. */
export function readNotificationToken(token: string, secret: string): NotificationClaims | undefined {
  const [head, body, signature] = token.split(".");
  if (!head || !body || !signature) return undefined;
  const expected = Buffer.from(sign(`${head}.${body}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Payload;
  } catch {
    return undefined;
  }
  const topic = TOPIC.exec(payload.topic ?? "");
  if (!topic || typeof payload.sub !== "string" || !(payload.exp * 1000 > Date.now())) return undefined;
  return { tenant: topic[1] ?? "", subscription: topic[3] ?? "", nonPersistent: topic[2] === "nonpersistent", subscriber: payload.sub, shared: payload.shared === true, exp: payload.exp };
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function sign(data: string, secret: string): string {
  return createHmac("sha256", `notification2:${secret}`).update(data).digest("base64url");
}
