import type { Context } from "../context.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { changeSubscriptions } from "../pipeline/subscribe.js";
import type { CommandResult } from "../result.js";

/** `c8y-ms subscribe <name> [tenants...]`: already subscribed is success. */
export async function subscribe(name: string, tenants: string[], options: ConnectionOptions, ctx: Context): Promise<CommandResult> {
  return { data: await changeSubscriptions(name, tenants, options, ctx, "subscribe") };
}

/** `c8y-ms unsubscribe <name> [tenants...]`: not subscribed is success. */
export async function unsubscribe(name: string, tenants: string[], options: ConnectionOptions, ctx: Context): Promise<CommandResult> {
  return { data: await changeSubscriptions(name, tenants, options, ctx, "unsubscribe") };
}
