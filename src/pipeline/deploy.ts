import { open, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { inBackground, type Background } from "../background.js";
import { checkBundle, type BundleReport } from "../bundle/check.js";
import { MANIFEST_ENTRY, PLATFORM_ZIP_LIMIT_BYTES } from "../bundle/limits.js";
import { openBundle, type Bundle } from "../bundle/open.js";
import type { Context } from "../context.js";
import { formatDiagnostic, quotedDiagnostics } from "../diagnostics.js";
import { AuthError, CancelledError, CliError, ExitCode, UsageError, ValidationError } from "../errors.js";
import { countLabel, formatBytes, formatMebibytes } from "../format.js";
import { ManifestInvalidError, type Manifest } from "../manifest/load.js";
import {
  createApplication,
  findApplicationsByName,
  ownerOf,
  ROLES,
  updateApplication,
  type Application,
  type NewApplication,
} from "../platform/applications.js";
import { uploadBinary } from "../platform/binaries.js";
import type { PlatformClient } from "../platform/client.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { grantRoleHint } from "../platform/errors.js";
import { withSession } from "../platform/session.js";
import { readStatus, ServiceNotUpError, waitUntilUp } from "../platform/status.js";
import { readCurrentUser, subscribedApplicationIds } from "../platform/tenants.js";
import { packProject, type PackSettings } from "./pack.js";
import { subscribeTenants, type TenantOutcome } from "./subscribe.js";

/** How to deploy (the flags of `deploy`). */
export interface DeploySettings extends ConnectionOptions, PackSettings {
  /** false with --no-subscribe. */
  subscribe: boolean;
  subscribeTenant: string[];
  dryRun?: boolean | undefined;
  wait?: boolean | undefined;
  /** Seconds --wait waits. */
  timeout: number;
}

/** The `--json` document (spec/cli.md, "JSON results"). */
export interface DeployResult {
  application: { id: string | null; name: string; key: string; contextPath: string | null };
  version: string;
  uploaded: boolean;
  subscriptions: TenantOutcome<"subscribed" | "already">[];
  /** Only with --dry-run: what a real run would do. */
  dryRun?: true;
  plan?: DeployPlan;
}

/** What a deploy is going to do; printed by --dry-run. */
export interface DeployPlan {
  application: "create" | "update roles" | "keep";
  upload: { file: string; bytes: number };
  subscribe: { tenant: string; already: boolean | null }[];
}

/** What deploy did, and where the service answers (undefined after a dry run). */
export interface Deployed {
  result: DeployResult;
  serviceUrl: string | undefined;
}

/** The zip to upload and what its manifest says. */
interface Artefact {
  file: string;
  bytes: number;
  name: string;
  version: string;
  manifest: Manifest;
  /**
   * The full check of a given zip (image digests included), running from the moment the zip
   * was opened; fails with exit 3 when the platform would refuse the zip. Undefined for a zip
   * `pack` just made and checked. Awaited where it matters (before a create, at the upload's
   * last bytes); a deploy that fails before then has its own error to report.
   */
  checked?: Background<void> | undefined;
}

/**
 * `c8y-ms deploy [dir|zip]`, in the order of platform.md §3.4: log in (so bad credentials fail
 * before a long build), pack or check, find the application this tenant owns, create it or
 * update its roles, upload, subscribe, and optionally wait until it is Up.
 */
export async function deployService(target: string, settings: DeploySettings, ctx: Context): Promise<Deployed> {
  const source = await deployTarget(target, ctx);
  // What the platform holds so far, for the message when a signal stops the deploy halfway.
  let left = "nothing on the platform was changed";
  let name: string | undefined;
  const changed: StateReport = (state, application) => {
    left = state;
    name = application;
  };
  try {
    return await withSession(settings, ctx, async ({ client, tenant }) => {
      // 1. The zip: packed from the project, or the given one, checked like the platform will.
      const artefact = source.kind === "zip" ? await openGivenZip(source.path, settings.sizeLimit, ctx) : await packForDeploy(source.path, settings, ctx);
      return deployArtefact(artefact, settings, client, tenant, ctx, changed);
    });
  } catch (error) {
    if (!ctx.signal.aborted) throw error;
    throw new CancelledError(`Interrupted: ${left}.`, {
      hint: name ? `\`c8y-ms status ${name}\` shows what the platform has; deploy again to finish.` : "Deploy again when you are ready.",
      cause: error,
    });
  }
}

/** Tells what the platform holds after a step, and of which application. */
type StateReport = (state: string, application: string) => void;

async function deployArtefact(artefact: Artefact, settings: DeploySettings, client: PlatformClient, tenant: string, ctx: Context, changed: StateReport): Promise<Deployed> {
  // 2. The application owned by this tenant, never a same-named one another tenant subscribed us to.
  const existing = await findOwnApplication(client, artefact.name, tenant);
  const wanted = applicationFor(artefact);
  const tenants = [...new Set([...(settings.subscribe ? [tenant] : []), ...settings.subscribeTenant])];
  const plan = planDeploy(existing, wanted, artefact, tenants);
  if (settings.dryRun) {
    await artefact.checked?.result();
    return { result: await dryRun(plan, existing, wanted, artefact, client, ctx), serviceUrl: undefined };
  }

  // 3. Create it, or bring its roles in line with the manifest. A zip that fails its check
  //    must not leave a new, empty application behind: wait for the check first.
  let app: Application;
  if (!existing) {
    await artefact.checked?.result();
    ctx.logger.step(`Creating application ${wanted.name} (key ${wanted.key}, context path ${wanted.contextPath})`);
    app = await createApplication(client, wanted, tenant);
    changed(`application ${app.name} (id ${app.id}) was created and has no binary yet`, app.name);
  } else if (plan.application === "update roles") {
    ctx.logger.step(`Updating the roles of ${existing.name}`);
    app = await updateApplication(client, existing, { requiredRoles: wanted.requiredRoles, roles: wanted.roles });
    changed(`the roles of ${app.name} (id ${app.id}) were updated; its active version is still the one before`, app.name);
  } else {
    app = existing;
  }

  // 4. Upload, streamed, while the zip's check finishes: a failing check stops the upload
  //    before its last bytes. A broken attempt is repeated only if it did not land.
  ctx.logger.step(`Uploading ${basename(artefact.file)} (${formatBytes(artefact.bytes)}) to ${app.name} (id ${app.id})`);
  const stop = new AbortController();
  const { checked } = artefact;
  void checked?.settled.then((outcome) => {
    if (!outcome.ok) stop.abort(outcome.error);
  });
  const path = artefact.file;
  const target = app;
  app = await uploadBinary(client, app, { label: path, bytes: artefact.bytes, fileName: basename(path), open: () => open(path, "r") }, {
    progress: ctx.progress,
    onSent: () => {
      ctx.logger.step("Waiting for the platform to check and store the image");
      changed(`the zip was sent to ${target.name} (id ${target.id}), but the platform had not answered: ${artefact.version} may or may not be active`, target.name);
    },
    signal: stop.signal,
    gate: checked && (() => checked.result()),
  });
  ctx.logger.success(`Uploaded ${app.name} ${artefact.version}`);
  changed(`${app.name} ${artefact.version} was uploaded (application ${app.id}); the subscriptions may be incomplete`, app.name);

  // 5. Subscribe: already subscribed is what we wanted.
  const subscriptions = await subscribeTenants(client, app, tenants, ctx);

  // 6. Wait until the platform reports it Up.
  if (settings.wait) {
    ctx.logger.step(`Waiting up to ${settings.timeout}s for ${app.name} to report Up`);
    changed(`${app.name} ${artefact.version} was uploaded (application ${app.id}) and ${tenants.length > 0 ? `subscribed by ${tenants.join(", ")}` : "not subscribed"}; the platform goes on starting it`, app.name);
    const deployed = app;
    await waitUntilUp(client, app, { timeoutMs: settings.timeout * 1000, signal: ctx.signal, onChange: (state) => ctx.logger.info(`  status: ${state}`) }).catch((error: unknown) => {
      // A pipeline reading only the error must still learn that the upload itself landed.
      if (!(error instanceof ServiceNotUpError)) throw error;
      const landed = `The upload landed: ${deployed.name} ${artefact.version} (application ${deployed.id}) is on the platform and subscribed; only the wait failed.`;
      throw new ServiceNotUpError(error.message, { hint: [landed, error.hint].filter(Boolean).join("\n"), cause: error });
    });
    ctx.logger.success(`${app.name} is Up`);
  }

  const result: DeployResult = { application: applicationSummary(app, wanted), version: artefact.version, uploaded: true, subscriptions };
  return { result, serviceUrl: serviceUrl(client, result.application.contextPath ?? app.name) };
}

type DeployTarget = { kind: "zip" | "dir"; path: string };

async function deployTarget(target: string, ctx: Pick<Context, "cwd">): Promise<DeployTarget> {
  const path = resolve(ctx.cwd, target);
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return { kind: "dir", path };
  if (info?.isFile() && /\.zip$/i.test(path)) return { kind: "zip", path };
  throw new UsageError(info ? `${target} is neither a project directory nor a .zip.` : `${target} does not exist.`, {
    hint: "Pass a project directory (with cumulocity.json) or a zip built by `c8y-ms pack` (default: the current directory).",
  });
}

/** Packs like `c8y-ms pack` does (up to date zips are reused), with the manifest it packed. */
async function packForDeploy(dir: string, settings: DeploySettings, ctx: Context): Promise<Artefact> {
  const { result, manifest } = await packProject(dir, settings, ctx);
  return { file: result.file, bytes: result.bytes, name: result.name, version: result.version, manifest };
}

/**
 * A zip given on the command line, opened once. Its manifest is read at once (name, version
 * and roles decide what happens on the platform). The full check the platform applies
 * (src/bundle/check.ts: size, entries, manifest, image and its digests) streams the whole
 * zip, so it runs beside the lookup and the upload instead of before them; over a real
 * network it is done long before the last byte is sent. It closes the zip when it ends.
 */
async function openGivenZip(path: string, sizeLimit: number | undefined, ctx: Pick<Context, "logger" | "signal">): Promise<Artefact> {
  const bytes = (await stat(path)).size;
  const limit = sizeLimit ?? PLATFORM_ZIP_LIMIT_BYTES;
  // Known at once, and no reason to send a byte: the platform would answer 413.
  if (bytes > limit) {
    throw new ValidationError(`${basename(path)} has ${formatMebibytes(bytes)}; the platform accepts at most ${formatMebibytes(limit)}.`, {
      hint: "Shrink the image (a slim base image, a multi-stage build, production dependencies only), or pass --size-limit <bytes> for an installation that accepts more.",
    });
  }
  const bundle = await openBundle(path);
  let manifest: Manifest;
  try {
    manifest = manifestOf(bundle);
  } catch (error) {
    await bundle.close();
    throw error;
  }
  const checked = inBackground(
    checkBundle(bundle, { sizeLimit, signal: ctx.signal })
      .then((report) => refuseOrWarn(report, ctx))
      .finally(() => bundle.close()),
  );
  return { file: path, bytes, name: manifest.name ?? nameFromFile(path), version: manifest.version, manifest, checked };
}

/** The bundle's valid manifest, or why there is none (exit 3). */
function manifestOf(bundle: Bundle): Manifest {
  const report = bundle.manifest;
  if (report?.manifest) return report.manifest;
  if (report) throw new ManifestInvalidError(report);
  const unreadable = bundle.findings.find((d) => d.entry === MANIFEST_ENTRY);
  if (unreadable) throw new ValidationError(`${basename(bundle.file)} would be refused by the platform: ${unreadable.message}`, { hint: "`c8y-ms pack` builds a zip the platform accepts." });
  throw new ValidationError(`${basename(bundle.file)} has no ${MANIFEST_ENTRY} at its root.`, { hint: "A platform zip holds cumulocity.json and image.tar; build it with `c8y-ms pack`." });
}

function refuseOrWarn(report: BundleReport, ctx: Pick<Context, "logger">): void {
  const name = basename(report.file);
  if (report.errors.length > 0) {
    throw new ValidationError(`${name} would be refused by the platform: ${countLabel(report.errors.length, "problem")} found.`, {
      hint: [...quotedDiagnostics(report.errors), `\`c8y-ms validate ${name}\` lists them again; \`c8y-ms pack\` builds a zip the platform accepts.`].join("\n"),
    });
  }
  for (const warning of report.warnings) ctx.logger.warn(formatDiagnostic(warning));
}

/**
 * The platform derives a missing name from the zip's file name without its version
 * (platform.md §1.1, [DOC-UTIL]), e.g. `my-service-1.2.0.zip` -> `my-service`.
 */
function nameFromFile(path: string): string {
  const name = basename(path).replace(/\.zip$/i, "").replace(/[-_]v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, "");
  if (!/^[a-z0-9-]{1,23}$/.test(name)) {
    throw new ValidationError(`The zip's cumulocity.json has no name, and "${name}" (from the file name) is not a valid microservice name.`, {
      hint: 'Add "name" to cumulocity.json (lowercase letters, digits and dashes, at most 23 characters) and pack again.',
    });
  }
  return name;
}

async function findOwnApplication(client: PlatformClient, name: string, tenant: string): Promise<Application | undefined> {
  const apps = await findApplicationsByName(client, name);
  const owned = apps.find((app) => ownerOf(app) === tenant);
  if (owned && owned.type !== "MICROSERVICE") {
    throw new ValidationError(`Tenant ${tenant} already has an application named ${name} of type ${owned.type}, not a microservice.`, {
      hint: 'Give the microservice another "name" in cumulocity.json.',
    });
  }
  return owned;
}

/**
 * What the application should look like. The key follows go-c8y-cli and the Maven plugin
 * (key = name), so an application made by c8y-ms matches one made by those tools; the
 * context path defaults to the name, as on the platform (platform.md §1.1).
 */
function applicationFor(artefact: Artefact): NewApplication {
  return {
    name: artefact.name,
    key: artefact.name,
    contextPath: artefact.manifest.contextPath ?? artefact.name,
    requiredRoles: [...(artefact.manifest.requiredRoles ?? [])],
    roles: [...(artefact.manifest.roles ?? [])],
  };
}

const sameSet = (a: readonly string[] = [], b: readonly string[] = []) => a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

function planDeploy(existing: Application | undefined, wanted: NewApplication, artefact: Artefact, tenants: string[]): DeployPlan {
  const rolesChanged = existing !== undefined && !(sameSet(existing.requiredRoles, wanted.requiredRoles) && sameSet(existing.roles, wanted.roles));
  return {
    application: !existing ? "create" : rolesChanged ? "update roles" : "keep",
    upload: { file: artefact.file, bytes: artefact.bytes },
    subscribe: tenants.map((tenant) => ({ tenant, already: existing ? null : false })),
  };
}

/**
 * --dry-run: the plan, with what is already subscribed where the platform lets us see it;
 * nothing changes. A plan the user may not carry out fails as the deploy would (exit 4).
 */
async function dryRun(plan: DeployPlan, existing: Application | undefined, wanted: NewApplication, artefact: Artefact, client: PlatformClient, ctx: Pick<Context, "logger">): Promise<DeployResult> {
  await assertMayDeploy(client);
  if (existing) {
    const subscribers = await knownSubscribers(client, existing);
    for (const entry of plan.subscribe) entry.already = subscribers?.has(entry.tenant) ?? null;
  }
  const lines = [
    plan.application === "create"
      ? `create application ${wanted.name} (key ${wanted.key}, context path ${wanted.contextPath}, required roles: ${wanted.requiredRoles.join(", ") || "none"})`
      : plan.application === "update roles"
        ? `update the roles of ${wanted.name} (id ${existing?.id}) to required roles: ${wanted.requiredRoles.join(", ") || "none"}; roles: ${wanted.roles.join(", ") || "none"}`
        : `keep application ${wanted.name} (id ${existing?.id})`,
    `upload ${basename(plan.upload.file)} (${formatBytes(plan.upload.bytes)}), version ${artefact.version}`,
    ...plan.subscribe.map((s) => `subscribe ${s.tenant}${s.already === true ? " (already subscribed)" : ""}`),
  ];
  ctx.logger.info("Dry run: nothing was changed on the platform. A deploy would:");
  for (const line of lines) ctx.logger.info(`  - ${line}`);
  return {
    application: applicationSummary(existing, wanted),
    version: artefact.version,
    uploaded: false,
    subscriptions: [],
    dryRun: true,
    plan,
  };
}

/** The roles a deploy needs (platform.md §3.3 #5, #7), when the platform lets us read them. */
async function assertMayDeploy(client: PlatformClient): Promise<void> {
  const roles = await readCurrentUser(client).then(
    (user) => user.roles,
    (error: unknown) => {
      if (error instanceof CliError && error.exitCode !== ExitCode.Interrupted) return undefined;
      throw error;
    },
  );
  if (roles === undefined || roles.includes(ROLES.appAdmin)) return;
  throw new AuthError(`A deploy would fail: ${client.principal} lacks the role ${ROLES.appAdmin}, which creating and uploading need.`, {
    hint: grantRoleHint(client.connection.source),
  });
}

/** Who is subscribed: from the status object, else only our own tenant's list. Undefined when we may not look. */
async function knownSubscribers(client: PlatformClient, app: Application): Promise<Set<string> | undefined> {
  try {
    const object = await readStatus(client, app);
    if (object?.c8y_Subscriptions) return new Set(Object.keys(object.c8y_Subscriptions));
    const own = client.tenant;
    return own && (await subscribedApplicationIds(client, own)).includes(app.id) ? new Set([own]) : new Set();
  } catch (error) {
    if (error instanceof CliError && error.exitCode !== ExitCode.Interrupted) return undefined;
    throw error;
  }
}

function applicationSummary(app: Application | undefined, wanted: NewApplication): DeployResult["application"] {
  return {
    id: app?.id ?? null,
    name: app?.name ?? wanted.name,
    key: app?.key ?? wanted.key,
    contextPath: app?.contextPath ?? wanted.contextPath ?? null,
  };
}

/** Where the platform routes requests to the service (platform.md §4.3). */
function serviceUrl(client: PlatformClient, contextPath: string): string {
  return `${client.baseUrl.origin}${client.baseUrl.pathname.replace(/\/$/, "")}/service/${contextPath}`;
}
