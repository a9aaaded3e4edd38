import type { Credentials } from "./config.js";
import type { Logger } from "./log.js";

/** The credentials the service uses to act in a tenant: that tenant's service user. */
export interface ServiceUsers {
  /** The service user of `tenant`. An unknown tenant (just subscribed?) or `reload` reads the list again first. */
  forTenant(tenant: string, options?: { reload?: boolean }): Promise<Credentials | undefined>;
  stop(): void;
}

/** The platform's Java SDK polls every 10 s; a minute is enough because unknown tenants reload at once. */
export const REFRESH_INTERVAL_MS = 60_000;
/**
 * A tenant that was not in the list, or whose password was refused, makes the list be read
 * again at most this often: callers from a tenant that is not subscribed cannot make every
 * request a call to the platform.
 */
export const TENANT_RECHECK_MS = 5_000;

/**
 * MULTI_TENANT: one instance serves every subscribed tenant. The list of service users is read
 * at start, every `intervalMs`, and when a request comes from a tenant not in it (at most every
 * TENANT_RECHECK_MS per tenant). A failed read keeps the last list: the platform being briefly
 * unreachable must not lock tenants out.
 */
export function subscribedServiceUsers(load: () => Promise<Credentials[]>, log: Logger, intervalMs = REFRESH_INTERVAL_MS, now = Date.now): ServiceUsers {
  let users = new Map<string, Credentials>();
  let loading: Promise<void> | undefined;
  const rechecked = new Map<string, number>();

  const reload = (): Promise<void> => {
    loading ??= load()
      .then((list) => {
        const before = [...users.keys()].sort().join(",");
        users = new Map(list.map((user) => [user.tenant, user]));
        const after = [...users.keys()].sort();
        if (after.join(",") !== before) log.info(`Subscribed tenants: ${after.join(", ") || "none"}`);
      })
      .catch((error: unknown) => {
        log.warn(`Could not read the service users (${error instanceof Error ? error.message : String(error)}); keeping the ${users.size} known.`);
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  void reload();
  const timer = setInterval(() => void reload(), intervalMs);
  timer.unref();

  return {
    async forTenant(tenant, options = {}) {
      const wanted = () => options.reload || !users.has(tenant);
      if (!wanted()) return users.get(tenant);
      const last = rechecked.get(tenant);
      if (last !== undefined && now() - last < TENANT_RECHECK_MS) {
        await loading;
      } else {
        await reload();
        // Still unknown, or its password needed a fresh read: not again for a while.
        if (wanted()) rechecked.set(tenant, now());
        else rechecked.delete(tenant);
      }
      return users.get(tenant);
    },
    stop: () => clearInterval(timer),
  };
}

/** PER_TENANT: the platform runs one instance per tenant and hands it that tenant's service user. */
export function fixedServiceUser(user: Credentials): ServiceUsers {
  return {
    forTenant: async (tenant) => (tenant === user.tenant ? user : undefined),
    stop: () => {},
  };
}
