import type { Context } from "../context.js";
import { PlatformClient, userAgent } from "./client.js";
import { resolveConnection, type ConnectionOptions } from "./connection.js";
import { createDispatcher } from "./dispatcher.js";
import { login } from "./tenants.js";

export interface Session {
  client: PlatformClient;
  /** The tenant we are logged in to. */
  tenant: string;
  close(): Promise<void>;
}

export type SessionContext = Pick<Context, "env" | "dotenv" | "version" | "stdin" | "redactor" | "prompter" | "interactive" | "logger" | "signal">;

/**
 * Resolves the connection, logs in and learns the tenant: the first step of every platform
 * command, so wrong credentials fail in a second rather than after a long build.
 */
export async function openSession(options: ConnectionOptions, ctx: SessionContext): Promise<Session> {
  const connection = await resolveConnection(options, ctx);
  const { dispatcher, proxy, proxyFor } = createDispatcher(ctx.env, ctx.redactor);
  if (proxy) ctx.logger.debug(`Proxy: HTTP ${proxy.http ?? "-"}, HTTPS ${proxy.https ?? proxy.http ?? "-"}, NO_PROXY ${proxy.noProxy ?? "-"}`);
  const client = new PlatformClient({ connection, dispatcher, proxyFor, logger: ctx.logger, redactor: ctx.redactor, userAgent: userAgent(ctx.version), signal: ctx.signal });
  const close = () => dispatcher.close().catch(() => {});
  try {
    const tenant = await login(client);
    ctx.logger.debug(`Logged in to ${connection.baseUrl.host} as ${client.principal}.`);
    return { client, tenant: tenant.name, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs `body` with a session and closes its connections afterwards, whatever happens. */
export async function withSession<T>(options: ConnectionOptions, ctx: SessionContext, body: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(options, ctx);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
