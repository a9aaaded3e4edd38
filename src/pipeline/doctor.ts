import type { Context } from "../context.js";
import { CliError, ExitCode } from "../errors.js";
import { detectEngine, EngineNotAvailableError, type Engine } from "../image/engine.js";
import { ROLES } from "../platform/applications.js";
import { PlatformClient, userAgent } from "../platform/client.js";
import { resolveConnection, resolvePlatformUrl, type ConnectionOptions } from "../platform/connection.js";
import { createDispatcher } from "../platform/dispatcher.js";
import { reachPlatform, type ReachOptions } from "../platform/reach.js";
import { login, readCurrentUser } from "../platform/tenants.js";

export interface DoctorSettings extends ConnectionOptions {
  engine?: string | undefined;
}

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warning or failure. */
  fix: string | null;
}

/** The `--json` document of `c8y-ms doctor`. */
export interface DoctorResult {
  ok: boolean;
  checks: Check[];
}

/** package.json `engines`. */
const MIN_NODE = [20, 18, 1] as const;
/** The newest Docker the platform documentation vouches for (platform.md §2, [DOC-PY]). */
const NEWEST_DOCUMENTED_DOCKER = 27;

/** The checks, and whether the platform refused the credentials or their roles (exit 4, as for every other command). */
export interface DoctorOutcome {
  result: DoctorResult;
  refused: boolean;
}

/**
 * Everything a deploy depends on, each with what is wrong and how to fix it. It never prompts,
 * and a failed check does not stop the others.
 */
export async function runChecks(settings: DoctorSettings, ctx: Context): Promise<DoctorOutcome> {
  const checks: Check[] = [checkNode(process.versions.node)];
  checks.push(...(await checkEngine(settings, ctx)));
  const platform = await checkPlatform(settings, ctx);
  checks.push(...platform.checks);
  return { result: { ok: !checks.some((c) => c.status === "fail"), checks }, refused: platform.refused };
}

const check = (name: string, status: CheckStatus, detail: string, fix: string | null = null): Check => ({ name, status, detail, fix });

export function checkNode(version: string): Check {
  const parts = version.split(".").map(Number);
  const differing = MIN_NODE.findIndex((min, i) => (parts[i] ?? 0) !== min);
  const tooOld = differing >= 0 && (parts[differing] ?? 0) < (MIN_NODE[differing] ?? 0);
  const needs = `>= ${MIN_NODE.join(".")}`;
  return tooOld
    ? check("Node.js", "fail", `${version} (c8y-ms needs ${needs})`, "Install Node.js 20.18 or newer (e.g. the current LTS from https://nodejs.org).")
    : check("Node.js", "ok", `${version} (needs ${needs})`);
}

async function checkEngine(settings: DoctorSettings, ctx: Context): Promise<Check[]> {
  if (settings.engine === "none") {
    return [
      check("Container engine", "skip", "--engine none: c8y-ms builds images itself"),
      check("Image archive format", "ok", "c8y-ms writes the docker-archive the platform reads"),
    ];
  }
  let engine: Engine;
  try {
    engine = await detectEngine(ctx, settings.engine);
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode === ExitCode.Interrupted) throw error;
    // Without a chosen engine, build, pack and deploy fall back to building without one.
    const fallback = settings.engine === undefined && error instanceof EngineNotAvailableError;
    return [
      fallback
        ? check("Container engine", "warn", `${error.message} Build, pack and deploy use --engine none (c8y-ms builds the image itself).`, `Dockerfiles with RUN steps need an engine. ${error.hint ?? ""}`.trim())
        : check("Container engine", "fail", error.message, error.hint ?? null),
      check("Image archive format", "skip", "no container engine"),
    ];
  }
  const network = engine.network ? ` (network ${engine.network})` : "";
  return [check("Container engine", "ok", `${engine.name} ${engine.version}${network}`), await checkArchiveFormat(engine, ctx)];
}

/**
 * What `docker save` writes decides whether the platform can read image.tar (platform.md §2,
 * landscape.md complaint 6): the classic store writes a docker-archive; the containerd image
 * store (Docker 28+ default on new installs) writes OCI layouts with attestations.
 */
export async function checkArchiveFormat(engine: Pick<Engine, "name" | "version" | "command">, ctx: Pick<Context, "exec" | "signal">): Promise<Check> {
  const name = "Image archive format";
  if (engine.name === "podman") return check(name, "ok", "podman save writes a docker-archive, the format the platform reads");
  const major = Number.parseInt(engine.version, 10);
  const driver = await ctx.exec
    .run(engine.command, ["info", "--format", "{{json .DriverStatus}}"], { signal: ctx.signal })
    .then((r) => r.stdout)
    .catch(() => "");
  const containerdStore = driver.includes("io.containerd.snapshotter");
  if (containerdStore || major > NEWEST_DOCUMENTED_DOCKER) {
    const why = containerdStore ? "uses the containerd image store" : `is newer than ${NEWEST_DOCUMENTED_DOCKER}, the newest the platform documentation names`;
    return check(
      name,
      "warn",
      `docker ${engine.version} ${why}: docker save writes OCI layouts that the platform may reject`,
      "c8y-ms pack checks image.tar before zipping (c8y-ms validate <zip> shows what it found); if the platform still rejects an upload, turn off the containerd image store (Docker Desktop: Settings > General) or build with Docker 27.",
    );
  }
  const format = major >= 25 ? "a docker-archive with OCI index files (accepted since the platform's 2024-05 fix)" : "a docker-archive, the format the platform reads";
  return check(name, "ok", `docker ${engine.version}: docker save writes ${format}`);
}

interface PlatformChecks {
  checks: Check[];
  /** The credentials were missing or refused, or lack a role every deploy needs. */
  refused: boolean;
}

async function checkPlatform(settings: DoctorSettings, ctx: Context): Promise<PlatformChecks> {
  const done = (checks: Check[], refused = false): PlatformChecks => ({ checks, refused });
  const skipped = (why: string) => [check("Credentials", "skip", why), check("Permissions", "skip", why)];
  let target: Awaited<ReturnType<typeof resolvePlatformUrl>>;
  try {
    target = await resolvePlatformUrl(settings, ctx);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return done([check("Platform URL", "fail", error.message, error.hint ?? null), ...skipped("no usable platform URL")]);
  }
  if (!target) {
    return done([check("Platform URL", "fail", "not set", "Set C8Y_HOST (or pass --url), e.g. https://example.cumulocity.com; `c8y-ms sandbox` starts a local one."), ...skipped("no platform URL")]);
  }

  const { dispatcher, proxy, proxyFor } = createDispatcher(ctx.env, ctx.redactor);
  try {
    const via = proxy ? ` through proxy ${proxy.https ?? proxy.http}` : "";
    const reach = await checkReach(target.url, { dispatcher, proxyFor, from: target.from, userAgent: userAgent(ctx.version), signal: ctx.signal });
    if (reach.status !== "ok") return done([{ ...reach, detail: `${reach.detail}${via}` }, ...skipped("the platform is not reachable")]);
    const checks = [{ ...reach, detail: `${reach.detail}${via}` }];

    // Doctor reports; it never asks: a missing password is a failed check, not a prompt.
    const quiet = { ...ctx, interactive: false };
    let client: PlatformClient;
    let tenant: string;
    try {
      const connection = await resolveConnection(settings, quiet);
      client = new PlatformClient({ connection, dispatcher, proxyFor, logger: ctx.logger, redactor: ctx.redactor, userAgent: userAgent(ctx.version), signal: ctx.signal, retry: { attempts: 1 } });
      tenant = (await login(client)).name;
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode === ExitCode.Interrupted) throw error;
      return done([...checks, check("Credentials", "fail", error.message, error.hint ?? null), check("Permissions", "skip", "not logged in")], error.exitCode === ExitCode.Auth);
    }
    checks.push(check("Credentials", "ok", `logged in to tenant ${tenant} as ${client.principal}`));
    const permissions = await checkPermissions(client);
    checks.push(permissions);
    return done(checks, permissions.status === "fail");
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

/** The platform URL: reachable, trusted TLS, and a Cumulocity. */
async function checkReach(url: URL, options: ReachOptions): Promise<Check> {
  const name = "Platform URL";
  const reach = await reachPlatform(url, options);
  if (!reach.reached) return check(name, "fail", reach.error.message, reach.error.hint ?? null);
  if (reach.looksLikeCumulocity) return check(name, "ok", `${url.origin}${url.pathname.replace(/\/$/, "")} answers (${reach.ms} ms)`);
  return check(name, "fail", `${url} answered ${reach.status} to GET /tenant/loginOptions; it does not look like a Cumulocity platform`, `Check the URL (${options.from}); use the tenant's address, e.g. https://example.cumulocity.com.`);
}

/** The roles the commands need (platform.md §3.3): deploy, status and --wait, subscribing subtenants. */
async function checkPermissions(client: PlatformClient): Promise<Check> {
  const name = "Permissions";
  let roles: string[];
  try {
    roles = (await readCurrentUser(client)).roles;
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode === ExitCode.Interrupted) throw error;
    return check(name, "warn", `could not read the user's roles: ${error.message}`, error.hint ?? null);
  }
  const has = (role: string) => roles.includes(role);
  const grant = (what: string) => `Ask a tenant administrator to grant ${what} to ${client.principal}.`;
  if (!has(ROLES.appAdmin)) {
    return check(name, "fail", `${ROLES.appAdmin} is missing: deploy, subscribe and delete will be refused (403)`, grant(ROLES.appAdmin));
  }
  const missing = [
    has(ROLES.inventoryRead) ? undefined : `${ROLES.inventoryRead} (status and deploy --wait read the service status)`,
    has(ROLES.tenantAdmin) ? undefined : `${ROLES.tenantAdmin} (only to subscribe subtenants)`,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) return check(name, "warn", `${ROLES.appAdmin} present; missing ${missing.join("; ")}`, grant(missing.map((m) => m.split(" ")[0]).join(" and ")));
  return check(name, "ok", `${ROLES.appAdmin}, ${ROLES.inventoryRead} and ${ROLES.tenantAdmin} present`);
}
