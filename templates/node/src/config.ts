/**
 * What the platform tells the service through its environment (Cumulocity's runtime
 * contract): the port to listen on, where the platform is, and whose credentials to use.
 */
export type Isolation = "MULTI_TENANT" | "PER_TENANT";

export interface Credentials {
  tenant: string;
  user: string;
  password: string;
}

/**
 * MULTI_TENANT: the bootstrap user, which reads the service users of all subscribed tenants.
 * PER_TENANT: the service user of the one tenant this instance serves.
 */
export type Access = { isolation: "MULTI_TENANT"; bootstrap: Credentials } | { isolation: "PER_TENANT"; serviceUser: Credentials };

export interface Config {
  port: number;
  /** The platform as seen from inside the cluster, without a trailing slash. */
  baseUrl: string;
  applicationName: string;
  access: Access;
}

/** A variable is missing or malformed: the service cannot run and says which one. */
export class ConfigError extends Error {}

export function readConfig(env: NodeJS.ProcessEnv): Config {
  const missing: string[] = [];
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === "") missing.push(name);
    return value ?? "";
  };
  const credentials = (tenant: string, user: string, password: string): Credentials => ({
    tenant: need(tenant),
    user: need(user),
    password: need(password),
  });

  const port = readPort(env.SERVER_PORT);
  const isolation = readIsolation(env.C8Y_MICROSERVICE_ISOLATION);
  const baseUrl = need("C8Y_BASEURL").replace(/\/+$/, "");
  const access: Access =
    isolation === "PER_TENANT"
      ? { isolation, serviceUser: credentials("C8Y_TENANT", "C8Y_USER", "C8Y_PASSWORD") }
      : { isolation, bootstrap: credentials("C8Y_BOOTSTRAP_TENANT", "C8Y_BOOTSTRAP_USER", "C8Y_BOOTSTRAP_PASSWORD") };
  if (missing.length > 0) {
    throw new ConfigError(
      `Missing environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")}. ` +
        `The platform sets ${missing.length > 1 ? "them" : "it"} when it runs the service; to run it yourself, see README.md (Run it locally).`,
    );
  }
  return { port, baseUrl, applicationName: env.APPLICATION_NAME ?? "", access };
}

function readPort(value: string | undefined): number {
  if (value === undefined || value === "") return 80;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new ConfigError(`SERVER_PORT must be a port number from 1 to 65535, not "${value}".`);
  return port;
}

function readIsolation(value: string | undefined): Isolation {
  if (value === undefined || value === "" || value === "MULTI_TENANT") return "MULTI_TENANT";
  if (value === "PER_TENANT") return "PER_TENANT";
  throw new ConfigError(`C8Y_MICROSERVICE_ISOLATION must be MULTI_TENANT or PER_TENANT, not "${value}".`);
}
