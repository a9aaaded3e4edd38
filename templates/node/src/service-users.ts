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
 * MULTI_TENANT: one instance serves every subscribed tenant. The list of service users is read
 * at start, every `intervalMs`, and whenever a request comes from a tenant not in it. A failed
 * read keeps the last list: the platform being briefly unreachable must not lock tenants out.
 */
export function subscribedServiceUsers(load: () => Promise<Credentials[]>, log: Logger, intervalMs = REFRESH_INTERVAL_MS): ServiceUsers {
  let users = new Map<string, Credentials>();
  let loading: Promise<void> | undefined;

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
      if (options.reload || !users.has(tenant)) await reload();
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
