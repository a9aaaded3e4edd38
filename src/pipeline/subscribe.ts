import type { Context } from "../context.js";
import { CliError, ExitCode, type ErrorCode } from "../errors.js";
import { requireOwnedApplication, type Application } from "../platform/applications.js";
import type { PlatformClient } from "../platform/client.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { withSession, type SessionContext } from "../platform/session.js";
import { subscribe as subscribeTenant, unsubscribe as unsubscribeTenant } from "../platform/tenants.js";

export interface TenantOutcome<S extends string> {
  tenant: string;
  status: S;
}

/** The `--json` document of subscribe and unsubscribe. */
export interface SubscriptionResult<S extends string> {
  application: { id: string; name: string };
  subscriptions: TenantOutcome<S>[];
}

export type SubscriptionChange = "subscribe" | "unsubscribe";

/**
 * `subscribe` / `unsubscribe <name> [tenants...]`: the application this tenant owns, and each
 * tenant (default: the current one) brought to the wanted state; already there is success.
 */
export async function changeSubscriptions(name: string, tenants: readonly string[], options: ConnectionOptions, ctx: SessionContext, change: SubscriptionChange): Promise<SubscriptionResult<string>> {
  return withSession(options, ctx, async ({ client, tenant }) => {
    const app = await requireOwnedApplication(client, name, tenant);
    const targets = tenants.length > 0 ? tenants : [tenant];
    const subscriptions = change === "subscribe" ? await subscribeTenants(client, app, targets, ctx) : await unsubscribeTenants(client, app, targets, ctx);
    return { application: { id: app.id, name: app.name }, subscriptions };
  });
}

const SUBSCRIBED_TEXT = { subscribed: "subscribed", already: "already subscribed" } as const;
const UNSUBSCRIBED_TEXT = { unsubscribed: "unsubscribed", already: "was not subscribed" } as const;

/** Subscribes each tenant in turn; see `eachTenant` for how failures are reported. */
export function subscribeTenants(client: PlatformClient, app: Application, tenants: readonly string[], ctx: Pick<Context, "logger">) {
  return eachTenant(tenants, ctx, (tenant) => subscribeTenant(client, tenant, app), (outcome) => SUBSCRIBED_TEXT[outcome], (list) => `subscribe ${list} to ${app.name}`);
}

export function unsubscribeTenants(client: PlatformClient, app: Application, tenants: readonly string[], ctx: Pick<Context, "logger">) {
  return eachTenant(tenants, ctx, (tenant) => unsubscribeTenant(client, tenant, app), (outcome) => UNSUBSCRIBED_TEXT[outcome], (list) => `unsubscribe ${list} from ${app.name}`);
}

/**
 * Runs `change` for every tenant, even after one failed, so one bad tenant id does not leave
 * the others undone; then fails with every tenant that did not work, and the exit code of the
 * first failure (an auth failure stays exit 4).
 */
async function eachTenant<S extends string>(
  tenants: readonly string[],
  ctx: Pick<Context, "logger">,
  change: (tenant: string) => Promise<S>,
  describe: (outcome: S) => string,
  what: (tenants: string) => string,
): Promise<TenantOutcome<S>[]> {
  const done: TenantOutcome<S>[] = [];
  const failed: { tenant: string; error: CliError }[] = [];
  for (const tenant of [...new Set(tenants)]) {
    try {
      const status = await change(tenant);
      ctx.logger.success(`${tenant}: ${describe(status)}`);
      done.push({ tenant, status });
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === ExitCode.Interrupted) throw error;
      if (tenants.length > 1) ctx.logger.error(`${tenant}: ${error.message}`);
      failed.push({ tenant, error });
    }
  }
  const first = failed[0];
  if (!first) return done;
  if (failed.length === 1 && done.length === 0) throw first.error;
  const summary = `Could not ${what(failed.map((f) => f.tenant).join(", "))}${done.length > 0 ? `; done for ${done.map((d) => d.tenant).join(", ")}` : ""}.`;
  throw new TenantsFailedError(summary, first.error);
}

/** Some tenants failed: keeps the first failure's code (so its exit code) and hint. */
class TenantsFailedError extends CliError {
  override readonly code: ErrorCode;
  constructor(message: string, first: CliError) {
    super(message, { hint: first.hint, cause: first });
    this.code = first.code;
  }
}
