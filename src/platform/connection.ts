import type { Context, Env } from "../context.js";
import { AuthError, MissingInputError, UsageError } from "../errors.js";
import type { CredentialSource } from "./errors.js";

/** The connection flags every platform command declares (src/cli.ts, addConnectionOptions). */
export interface ConnectionOptions {
  url?: string | undefined;
  tenant?: string | undefined;
  user?: string | undefined;
  passwordStdin?: boolean | undefined;
}

export type Credentials = { kind: "basic"; user: string; password: string } | { kind: "bearer"; token: string };

export interface Connection {
  /** Normalised: http(s), no query, hash or trailing slash. */
  baseUrl: URL;
  /** Where the URL came from ("--url", "C8Y_HOST (environment)"), for network error hints. */
  urlFrom: string;
  /** Known from a flag, the environment or `tenant/user`; otherwise looked up after login. */
  tenant: string | undefined;
  credentials: Credentials;
  /** Where each value came from, for error hints. */
  source: CredentialSource;
}

/** spec/cli.md "Platform connection": the variables and their aliases, first wins. */
const URL_VARIABLES = ["C8Y_HOST", "C8Y_BASEURL", "C8Y_URL"];
const USER_VARIABLES = ["C8Y_USER", "C8Y_USERNAME"];

interface Found {
  value: string;
  /** "--url", "C8Y_HOST (environment)", "C8Y_USER (.env)" */
  from: string;
}

type ConnectionContext = Pick<Context, "env" | "dotenv" | "stdin" | "redactor" | "prompter" | "interactive">;

type Lookup = (flag: string, flagValue: string | undefined, variables: readonly string[]) => Found | undefined;

/** Flag, else the first variable set in the environment, else in `.env` of the working directory. */
async function sources(ctx: Pick<Context, "env" | "dotenv">): Promise<Lookup> {
  const layers: { name: string; values: Env }[] = [
    { name: "environment", values: ctx.env },
    { name: ".env", values: await ctx.dotenv() },
  ];
  return (flag, flagValue, variables) => {
    if (flagValue !== undefined && flagValue !== "") return { value: flagValue, from: flag };
    for (const layer of layers) {
      for (const variable of variables) {
        const value = layer.values[variable];
        if (value !== undefined && value.trim() !== "") return { value: value.trim(), from: `${variable} (${layer.name})` };
      }
    }
    return undefined;
  };
}

/** The platform URL alone, without prompting (doctor checks it before credentials). */
export async function resolvePlatformUrl(options: ConnectionOptions, ctx: Pick<Context, "env" | "dotenv">): Promise<{ url: URL; from: string } | undefined> {
  const found = (await sources(ctx))("--url", options.url, URL_VARIABLES);
  return found && { url: normaliseBaseUrl(found.value, found.from), from: found.from };
}

/**
 * Resolves where and as whom to connect: flags, then the environment, then `.env` in the
 * working directory (spec/cli.md). A bearer token (C8Y_TOKEN) is used instead of a password
 * when it comes from the same or a higher layer. Every secret is registered with the
 * redactor before anything can print it.
 */
export async function resolveConnection(options: ConnectionOptions, ctx: ConnectionContext): Promise<Connection> {
  const lookup = await sources(ctx);

  // Secrets first, so that nothing printed below (not even a URL with a password in it) shows them.
  const password = options.passwordStdin ? { value: await readPasswordFromStdin(ctx.stdin), from: "--password-stdin" } : lookup("", undefined, ["C8Y_PASSWORD"]);
  const token = lookup("", undefined, ["C8Y_TOKEN"]);
  ctx.redactor.add(password?.value);
  ctx.redactor.add(token?.value);

  let url = lookup("--url", options.url, URL_VARIABLES);
  if (!url) {
    if (!ctx.interactive) throw new MissingInputError("platform URL", "--url (or set C8Y_HOST)");
    url = { value: await ctx.prompter.input({ message: "Platform URL", flag: "--url (or set C8Y_HOST)", validate: (v) => checkUrl(v) }), from: "prompt" };
  }
  const baseUrl = normaliseBaseUrl(url.value, url.from);
  let tenant = lookup("--tenant", options.tenant, ["C8Y_TENANT"]);
  let user = lookup("--user", options.user, USER_VARIABLES);

  if (user) {
    // `t12345/admin` names the tenant as the platform's Basic auth does (platform.md §3.2).
    const slash = user.value.indexOf("/");
    if (slash > 0) {
      tenant ??= { value: user.value.slice(0, slash), from: user.from };
      user = { value: user.value.slice(slash + 1), from: user.from };
    }
  }

  if (token && !(password && rank(password) < rank(token))) {
    return {
      baseUrl,
      urlFrom: url.from,
      tenant: tenant?.value,
      credentials: { kind: "bearer", token: token.value },
      source: { kind: "bearer", names: [token.from], principal: "the token" },
    };
  }

  if (!user || !password) {
    if (!ctx.interactive) throw missingCredentials(baseUrl, user, password);
    user ??= { value: await ctx.prompter.input({ message: `User on ${baseUrl.host}`, flag: "--user" }), from: "prompt" };
    const typed = password ?? { value: await ctx.prompter.password({ message: "Password", flag: "--password-stdin" }), from: "prompt" };
    ctx.redactor.add(typed.value);
    return basicConnection(baseUrl, url.from, tenant, user, typed);
  }
  return basicConnection(baseUrl, url.from, tenant, user, password);
}

function basicConnection(baseUrl: URL, urlFrom: string, tenant: Found | undefined, user: Found, password: Found): Connection {
  const names = [user.from, password.from, tenant ? tenant.from : "C8Y_TENANT (not set; looked up)"].filter((n) => n !== "prompt");
  return {
    baseUrl,
    urlFrom,
    tenant: tenant?.value,
    credentials: { kind: "basic", user: user.value, password: password.value },
    source: { kind: "basic", names: names.length > 0 ? names : ["the user and password you typed"], principal: basicPrincipal(user.value, tenant?.value) },
  };
}

/** Flags beat the environment, which beats .env. */
function rank(found: Found): number {
  if (found.from.startsWith("--")) return 0;
  return found.from.endsWith("(.env)") ? 2 : 1;
}

/** `tenant/user` as the platform's Basic auth expects it, or the bare user while the tenant is unknown. */
export function basicPrincipal(user: string, tenant: string | undefined): string {
  return tenant ? `${tenant}/${user}` : user;
}

/** The Authorization header value for `credentials`. */
export function authorization(credentials: Credentials, tenant: string | undefined): string {
  if (credentials.kind === "bearer") return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${basicPrincipal(credentials.user, tenant)}:${credentials.password}`).toString("base64")}`;
}

function missingCredentials(baseUrl: URL, user: Found | undefined, password: Found | undefined): AuthError {
  const missing = [user ? undefined : "C8Y_USER", password ? undefined : "C8Y_PASSWORD"].filter(Boolean).join(" and ");
  return new AuthError(`No credentials for ${baseUrl.host}: ${missing} ${missing.includes(" and ") ? "are" : "is"} not set.`, {
    hint: "Set C8Y_USER and C8Y_PASSWORD (C8Y_TENANT is looked up when missing), or C8Y_TOKEN; in CI use the pipeline's secret variables. --password-stdin reads the password from a pipe.",
  });
}

/**
 * Accepts what people paste: a host without a scheme (https is assumed, as go-c8y-cli does),
 * a trailing slash, or the address of a UI page (`/apps/cockpit/index.html#/`). Other paths
 * are kept, for platforms behind a path-prefixing proxy.
 */
export function normaliseBaseUrl(input: string, from = "--url"): URL {
  const problem = checkUrl(input);
  if (problem !== true) throw new UsageError(`${from} is not a platform URL: ${problem}`, { hint: "Give the tenant's address, e.g. https://example.cumulocity.com." });
  const url = new URL(withScheme(input.trim()));
  url.search = "";
  url.hash = "";
  url.pathname = url.pathname.replace(/\/apps(\/.*)?$/, "").replace(/\/+$/, "");
  return url;
}

function withScheme(text: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
}

/** true, or why `input` is not usable (prompt validation and flag checking share it). */
function checkUrl(input: string): string | true {
  let url: URL;
  try {
    url = new URL(withScheme(input.trim()));
  } catch {
    return "it cannot be parsed as a URL.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${url.protocol} is not supported; use https:// (or http:// for a local sandbox).`;
  if (url.username || url.password) return "it contains credentials; set C8Y_USER and C8Y_PASSWORD instead.";
  return true;
}

async function readPasswordFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  // `echo "$PASSWORD" |` adds a newline that is not part of the password.
  const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (password === "") {
    throw new AuthError("--password-stdin was given, but stdin was empty.", { hint: 'Pipe the password in, e.g. printf %s "$C8Y_PASSWORD" | c8y-ms deploy --password-stdin.' });
  }
  return password;
}
