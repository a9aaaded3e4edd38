import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { IMAGE_ENTRY } from "../bundle/limits.js";
import { openZip } from "../archive/zip-reader.js";
import type { Exec } from "../exec.js";
import type { Engine } from "../image/engine.js";
import type { Redactor } from "../secrets.js";
import type { Logger } from "../ui/logger.js";
import { bootstrapUserOf, serviceUsersOf, subscribersOf } from "./applications.js";
import { probePort, probeTiming, ProbeState, runProbe, type ProbeSpec, type ProbeTiming } from "./probes.js";
import type { SandboxCore } from "./router.js";
import { healthOf, type InstanceStatus, type LogsDocument, type ServiceRuntime, type ServiceStatus, type ServiceTarget } from "./runtime.js";
import type { ApplicationRecord, UserRecord } from "./state.js";

/** How services are reached: the host network with a free SERVER_PORT, or port 80 published on 127.0.0.1. */
export type NetworkMode = "host" | "publish";

export interface ContainerRuntimeOptions {
  engine: Engine;
  network: NetworkMode;
  exec: Exec;
  /** Service passwords passed in `run -e` must not show in --verbose command logs. */
  redactor: Pick<Redactor, "add">;
  logger: Pick<Logger, "debug" | "warn" | "info">;
}

/** Every container and image tag the sandbox makes carries this label (value: the data directory). */
export const SANDBOX_LABEL = "c8y-ms.sandbox";
const APPLICATION_LABEL = "c8y-ms.application";
/** How often the engine is asked whether containers still run. */
const INSPECT_INTERVAL_MS = 2000;
/** platform.md §4.2 and [DOC-QUOTAS]: logs retained per container. */
const LOG_LIMIT_BYTES = 35 * 1024 * 1024;
/** platform.md §4.2: at most 10240 threads per container. */
const PIDS_LIMIT = 10240;
/** Defaults of platform.md §1.1 (resources) when the manifest sets none. */
const DEFAULT_MEMORY = "512M";
const DEFAULT_CPU = "0.5";

interface Instance {
  name: string;
  /** "<scope>#<replica>", stable while the deployment's shape stays. */
  slot: string;
  tenant: string | undefined;
  containerId: string;
  /** Host port for the container's port 80 (SERVER_PORT on the host network). */
  port: number;
  /** Host ports of other container ports the probes check. */
  probePorts: Map<number, number>;
  /** Changes in the environment (e.g. a new service-user password) mean a new container. */
  fingerprint: string;
  manifest: Record<string, unknown>;
  running: boolean;
  restarts: number;
  lastUpdated: string;
  readiness: ProbeState | undefined;
  liveness: ProbeState | undefined;
  timers: NodeJS.Timeout[];
}

interface Deployment {
  app: string;
  versionId: string | undefined;
  /** Our own tag of the loaded image; removing it never touches the user's tags. */
  imageRef: string | undefined;
  instances: Instance[];
  reason: string | undefined;
  /** Changes to one service run one after another. */
  queue: Promise<void>;
  pending: boolean;
  nextTarget: number;
}

/**
 * Runs uploaded microservices in Docker or Podman as the platform would (platform.md §4):
 * after an upload and at least one subscription the image is loaded and started with the
 * platform environment, one container per replica (per subscribed tenant for PER_TENANT),
 * with every capability dropped except NET_BIND_SERVICE and the manifest's memory and CPU
 * limits. Probes decide readiness and restarts; the gateway routes to ready instances.
 */
export function createContainerRuntime(core: Omit<SandboxCore, "runtime">, options: ContainerRuntimeOptions): ServiceRuntime & { start(): Promise<void> } {
  const { engine, exec, logger } = options;
  const deployments = new Map<string, Deployment>();
  const stopping = new AbortController();
  const label = `${SANDBOX_LABEL}=${core.store.dataDir}`;
  let inspectTimer: NodeJS.Timeout | undefined;

  /**
   * How a service reaches the sandbox. On the host network that is the sandbox's own address;
   * with published ports it is the engine's name for the host (Docker Desktop and Podman
   * forward it to the host's loopback).
   */
  const callbackUrl = () => {
    if (options.network === "host") return core.baseUrl;
    const url = new URL(core.baseUrl);
    url.hostname = engine.name === "podman" ? "host.containers.internal" : "host.docker.internal";
    return url.toString().replace(/\/$/, "");
  };

  const engineRun = (args: string[], extra: Parameters<Exec["run"]>[2] = {}) => exec.run(engine.command, args, { signal: stopping.signal, ...extra });

  function deploymentOf(appId: string): Deployment {
    let deployment = deployments.get(appId);
    if (!deployment) {
      deployment = { app: appId, versionId: undefined, imageRef: undefined, instances: [], reason: undefined, queue: Promise.resolve(), pending: false, nextTarget: 0 };
      deployments.set(appId, deployment);
    }
    return deployment;
  }

  function reconcile(appId: string): void {
    const deployment = deploymentOf(appId);
    // Several changes in a row (upload, then subscribe) collapse into one pass.
    if (deployment.pending) return;
    deployment.pending = true;
    deployment.queue = deployment.queue.then(async () => {
      deployment.pending = false;
      if (stopping.signal.aborted) return;
      try {
        await sync(deployment);
      } catch (error) {
        if (stopping.signal.aborted) return;
        deployment.reason = error instanceof Error ? error.message : String(error);
        logger.warn(`Sandbox could not run application ${appId}: ${deployment.reason}`);
      }
    });
  }

  async function sync(deployment: Deployment): Promise<void> {
    const state = core.store.state;
    const app = state.applications.find((a) => a.id === deployment.app);
    const version = app?.activeVersionId ? state.versions.find((v) => v.id === app.activeVersionId) : undefined;
    const subscribers = app ? subscribersOf(state, app) : [];
    if (!app || !version || subscribers.length === 0) {
      await removeInstances(deployment, deployment.instances);
      await untag(deployment);
      deployment.reason = undefined;
      if (!app) deployments.delete(deployment.app);
      return;
    }
    if (deployment.versionId !== version.id) {
      // A new binary replaces the running containers.
      await removeInstances(deployment, deployment.instances);
      await untag(deployment);
      deployment.reason = "Loading the image";
      deployment.imageRef = await loadImage(app, version.id, join(core.store.dataDir, version.file));
      deployment.versionId = version.id;
    }
    deployment.reason = undefined;

    const wanted = desiredSlots(app, subscribers);
    const stale = deployment.instances.filter((i) => wanted.get(i.slot)?.fingerprint !== i.fingerprint);
    await removeInstances(deployment, stale);
    for (const [slot, spec] of wanted) {
      if (deployment.instances.some((i) => i.slot === slot)) continue;
      deployment.instances.push(await startInstance(app, deployment, slot, spec));
    }
    ensureInspecting();
  }

  interface SlotSpec {
    tenant: string | undefined;
    env: Record<string, string>;
    fingerprint: string;
  }

  /** One slot per replica; PER_TENANT multiplies by subscribed tenants, each with its service user. */
  function desiredSlots(app: ApplicationRecord, subscribers: string[]): Map<string, SlotSpec> {
    const state = core.store.state;
    const manifest = app.manifest ?? {};
    const perTenant = manifest.isolation === "PER_TENANT";
    const replicas = typeof manifest.replicas === "number" && manifest.replicas >= 1 ? Math.min(5, Math.floor(manifest.replicas)) : 1;
    const bootstrap = bootstrapUserOf(state, app);
    const base: Record<string, string> = {
      APPLICATION_NAME: app.name,
      APPLICATION_KEY: app.key,
      C8Y_BASEURL: callbackUrl(),
      C8Y_MICROSERVICE_ISOLATION: perTenant ? "PER_TENANT" : "MULTI_TENANT",
      C8Y_BOOTSTRAP_REGISTER: "false",
      C8Y_BOOTSTRAP_TENANT: app.owner,
      C8Y_BOOTSTRAP_USER: bootstrap?.name ?? "",
      C8Y_BOOTSTRAP_PASSWORD: bootstrap?.password ?? "",
      MICROSERVICE_SUBSCRIPTION_ENABLED: "true",
      // platform.md §4.1 CONFLICT (doc default 256M vs limit 512M): the sandbox passes the limit it applies.
      MEMORY_LIMIT: memoryOf(app),
      LOG4J_FORMAT_MSG_NO_LOOKUPS: "true",
    };
    const slots = new Map<string, SlotSpec>();
    const scopes: (string | undefined)[] = perTenant ? subscribers : [undefined];
    for (const tenant of scopes) {
      const env = { ...base };
      if (tenant) {
        const user = serviceUsersOf(state, app).find((u: UserRecord) => u.tenant === tenant);
        Object.assign(env, { C8Y_TENANT: tenant, C8Y_USER: user?.name ?? "", C8Y_PASSWORD: user?.password ?? "" });
      }
      const fingerprint = createHash("sha256").update(JSON.stringify([env, app.manifest ?? {}])).digest("hex");
      for (let replica = 0; replica < replicas; replica++) slots.set(`${tenant ?? "shared"}#${replica}`, { tenant, env, fingerprint });
    }
    return slots;
  }

  async function loadImage(app: ApplicationRecord, versionId: string, zipPath: string): Promise<string> {
    const zip = await openZip(zipPath);
    let loaded: string | undefined;
    try {
      const image = await zip.openEntry(IMAGE_ENTRY);
      const result = await engineRun(["load"], { input: image });
      // docker: "Loaded image: name:tag" or "Loaded image ID: sha256:..."; podman: "Loaded image(s): a, b".
      for (const line of result.stdout.split("\n")) {
        const match = /^Loaded image(?:\(s\)| ID)?: (.+)$/.exec(line.trim());
        if (match?.[1] && !loaded) loaded = match[1].split(",")[0]?.trim();
      }
    } finally {
      await zip.close();
    }
    if (!loaded) throw new Error(`${engine.name} load did not name the image it loaded.`);
    const ref = `c8y-ms-sandbox/${app.name}:v${versionId}`;
    await engineRun(["tag", loaded, ref]);
    return ref;
  }

  async function untag(deployment: Deployment): Promise<void> {
    const ref = deployment.imageRef;
    deployment.imageRef = undefined;
    deployment.versionId = undefined;
    if (!ref) return;
    try {
      // Removes our tag; the image itself goes only if nothing else (a user's tag) holds it.
      await exec.run(engine.command, ["rmi", ref]);
    } catch (error) {
      logger.debug(`Could not remove ${ref}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function startInstance(app: ApplicationRecord, deployment: Deployment, slot: string, spec: SlotSpec): Promise<Instance> {
    const manifest = app.manifest ?? {};
    const scope = spec.tenant ?? app.owner;
    const name = `${app.name}-scope-${scope}-deployment-${(deployment.versionId ?? "0").slice(-6)}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const probes = [manifest.livenessProbe, manifest.readinessProbe].filter(isProbe);
    const extraPorts = [...new Set(probes.map(probePort).filter((p): p is number => p !== undefined && p !== 80))];
    const port = await freePort();
    const probePorts = new Map<number, number>();
    const env = { ...spec.env };
    const args = ["run", "-d", "--name", `c8y-ms-${name}`, "--label", label, "--label", `${APPLICATION_LABEL}=${app.id}`];
    args.push("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE");
    args.push("--memory", String(memoryBytes(memoryOf(app))), "--cpus", String(cpus(app)), "--pids-limit", String(PIDS_LIMIT));
    args.push("--restart", "on-failure");
    if (options.network === "host") {
      // One inbound port per service (platform.md §4.2): on the host network it is a free one, in SERVER_PORT.
      args.push("--network", "host");
      env.SERVER_PORT = String(port);
      for (const p of extraPorts) probePorts.set(p, p);
    } else {
      env.SERVER_PORT = "80";
      args.push("-p", `127.0.0.1:${port}:80`);
      if (engine.name === "docker") args.push("--add-host", "host.docker.internal:host-gateway");
      for (const p of extraPorts) {
        const host = await freePort();
        probePorts.set(p, host);
        args.push("-p", `127.0.0.1:${host}:${p}`);
      }
    }
    options.redactor.add(env.C8Y_BOOTSTRAP_PASSWORD);
    options.redactor.add(env.C8Y_PASSWORD);
    for (const [key, value] of Object.entries(env)) args.push("-e", `${key}=${value}`);
    args.push(deployment.imageRef ?? "");
    const { stdout } = await engineRun(args);
    const instance: Instance = {
      name,
      slot,
      tenant: spec.tenant,
      containerId: stdout.trim().split("\n").pop() ?? "",
      port,
      probePorts,
      fingerprint: spec.fingerprint,
      manifest,
      running: true,
      restarts: 0,
      lastUpdated: new Date().toISOString(),
      readiness: undefined,
      liveness: undefined,
      timers: [],
    };
    scheduleProbes(instance);
    logger.info(`Started ${app.name} (${name}) on 127.0.0.1:${port}`);
    return instance;
  }

  function scheduleProbes(instance: Instance): void {
    const manifest = instance.manifest;
    for (const timer of instance.timers) clearTimeout(timer);
    instance.timers = [];
    const readiness = isProbe(manifest.readinessProbe) ? manifest.readinessProbe : undefined;
    const liveness = isProbe(manifest.livenessProbe) ? manifest.livenessProbe : undefined;
    // Without a readiness probe an instance is ready as soon as it runs; without liveness it is never restarted.
    instance.readiness = readiness ? new ProbeState(probeTiming(readiness), false) : undefined;
    instance.liveness = liveness ? new ProbeState(probeTiming(liveness), true) : undefined;
    if (readiness && instance.readiness) loop(instance, readiness, probeTiming(readiness), instance.readiness, false);
    if (liveness && instance.liveness) loop(instance, liveness, probeTiming(liveness), instance.liveness, true);
  }

  function loop(instance: Instance, spec: ProbeSpec, timing: ProbeTiming, state: ProbeState, restartsOnFailure: boolean): void {
    const tick = async () => {
      if (stopping.signal.aborted) return;
      const port = probePort(spec);
      const target = {
        port: port === undefined || port === 80 ? instance.port : (instance.probePorts.get(port) ?? port),
        exec: (command: string[], timeoutMs: number) => execProbe(instance, command, timeoutMs),
      };
      const ok = instance.running && (await runProbe(spec, target, timing.timeoutMs));
      const flippedToFailing = state.record(ok);
      instance.lastUpdated = new Date().toISOString();
      if (restartsOnFailure && flippedToFailing) {
        await restartInstance(instance);
        return;
      }
      instance.timers.push(setTimeout(() => void tick(), timing.periodMs).unref());
    };
    instance.timers.push(setTimeout(() => void tick(), timing.initialDelayMs).unref());
  }

  async function execProbe(instance: Instance, command: string[], timeoutMs: number): Promise<boolean> {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      await exec.run(engine.command, ["exec", instance.containerId, ...command], { signal: AbortSignal.any([timeout, stopping.signal]) });
      return true;
    } catch {
      return false;
    }
  }

  /** A failed liveness probe restarts the container, as the kubelet does. */
  async function restartInstance(instance: Instance): Promise<void> {
    logger.info(`Liveness probe failed: restarting ${instance.name}`);
    instance.restarts++;
    try {
      await engineRun(["restart", "-t", "1", instance.containerId]);
    } catch (error) {
      logger.debug(`Restart of ${instance.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    scheduleProbes(instance);
  }

  async function removeInstances(deployment: Deployment, instances: Instance[]): Promise<void> {
    if (instances.length === 0) return;
    for (const instance of instances) for (const timer of instance.timers) clearTimeout(timer);
    deployment.instances = deployment.instances.filter((i) => !instances.includes(i));
    await removeContainers(instances.map((i) => i.containerId));
  }

  async function removeContainers(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      // No abort signal: this also runs while the sandbox shuts down after Ctrl-C.
      await exec.run(engine.command, ["rm", "-f", ...ids]);
    } catch (error) {
      logger.warn(`Could not remove containers ${ids.join(", ")}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** One `inspect` for every container keeps running state and restart counts current. */
  function ensureInspecting(): void {
    if (inspectTimer || stopping.signal.aborted) return;
    const tick = async () => {
      const instances = [...deployments.values()].flatMap((d) => d.instances);
      if (instances.length > 0) {
        try {
          const { stdout } = await engineRun(["inspect", "--format", "{{.Id}} {{.State.Running}} {{.RestartCount}}", ...instances.map((i) => i.containerId)]);
          applyInspect(instances, stdout);
        } catch (error) {
          // A container that vanished makes inspect fail; fall back to one by one.
          if (!stopping.signal.aborted) await inspectEach(instances, error);
        }
      }
      if (!stopping.signal.aborted) inspectTimer = setTimeout(() => void tick(), INSPECT_INTERVAL_MS).unref();
    };
    inspectTimer = setTimeout(() => void tick(), INSPECT_INTERVAL_MS).unref();
  }

  async function inspectEach(instances: Instance[], cause: unknown): Promise<void> {
    logger.debug(`inspect failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    for (const instance of instances) {
      try {
        const { stdout } = await engineRun(["inspect", "--format", "{{.Id}} {{.State.Running}} {{.RestartCount}}", instance.containerId]);
        applyInspect([instance], stdout);
      } catch {
        instance.running = false;
      }
    }
  }

  function applyInspect(instances: Instance[], stdout: string): void {
    for (const line of stdout.trim().split("\n")) {
      const [id = "", running, restarts] = line.trim().split(" ");
      const instance = instances.find((i) => id.startsWith(i.containerId) || i.containerId.startsWith(id));
      if (!instance) continue;
      const isRunning = running === "true";
      const engineRestarts = Number(restarts) || 0;
      if (isRunning !== instance.running) instance.lastUpdated = new Date().toISOString();
      instance.running = isRunning;
      // Restarts by the engine (crashes) add to those our liveness probes caused.
      instance.restarts = Math.max(instance.restarts, engineRestarts);
    }
  }

  function statusOf(instance: Instance): InstanceStatus {
    const ready = instance.running && (instance.readiness?.passing ?? true) && (instance.liveness?.passing ?? true);
    return { name: instance.name, tenant: instance.tenant, running: instance.running, ready, restarts: instance.restarts, lastUpdated: instance.lastUpdated };
  }

  function findInstance(app: ApplicationRecord, name: string): Instance | undefined {
    return deployments.get(app.id)?.instances.find((i) => i.name === name);
  }

  return {
    async start() {
      // Containers of an earlier run of this data directory (after a crash) are replaced.
      const { stdout } = await engineRun(["ps", "-aq", "--filter", `label=${label}`]);
      await removeContainers(stdout.split("\n").map((l) => l.trim()).filter(Boolean));
      for (const app of core.store.state.applications) reconcile(app.id);
    },

    reconcile,

    status(app): ServiceStatus {
      const deployment = deployments.get(app.id);
      const instances = (deployment?.instances ?? []).map(statusOf);
      const subscribers = subscribersOf(core.store.state, app).length;
      const manifest = app.manifest ?? {};
      const replicas = typeof manifest.replicas === "number" && manifest.replicas >= 1 ? Math.min(5, Math.floor(manifest.replicas)) : 1;
      const desired = subscribers === 0 ? 0 : manifest.isolation === "PER_TENANT" ? replicas * subscribers : replicas;
      const lastUpdated = instances.map((i) => i.lastUpdated).sort().pop() ?? app.lastUpdated;
      const status: ServiceStatus = { status: healthOf(instances, desired), lastUpdated, desired, instances };
      const reason = deployment?.reason ?? (desired === 0 ? "No tenant is subscribed, so the service does not run." : undefined);
      if (reason) status.reason = reason;
      return status;
    },

    async logs(app, name, range): Promise<LogsDocument | undefined> {
      const instance = findInstance(app, name);
      if (!instance) return undefined;
      const dateTo = range.dateTo ?? new Date().toISOString();
      const dateFrom = range.dateFrom ?? new Date(0).toISOString();
      const args = ["logs", "--timestamps", "--until", dateTo];
      if (range.dateFrom) args.push("--since", range.dateFrom);
      const { stdout, stderr } = await engineRun([...args, instance.containerId]);
      return { dateFrom, dateTo, ...mergeLogs(stdout, stderr) };
    },

    target(app, tenant): ServiceTarget | string {
      const deployment = deployments.get(app.id);
      if (!deployment || deployment.instances.length === 0) {
        return deployment?.reason
          ? `Microservice ${app.name} is not available: ${deployment.reason}.`
          : `Microservice ${app.name} is not running: it needs an uploaded binary and a subscribed tenant.`;
      }
      const scoped = deployment.instances.filter((i) => i.tenant === undefined || i.tenant === tenant);
      const ready = scoped.filter((i) => statusOf(i).ready);
      if (ready.length === 0) return `Microservice ${app.name} is not ready yet (no instance passed its probes).`;
      // Round-robin across replicas (platform.md §4.3, [DOC-BP]).
      const chosen = ready[deployment.nextTarget++ % ready.length];
      return { host: "127.0.0.1", port: chosen?.port ?? 0 };
    },

    async close() {
      stopping.abort();
      if (inspectTimer) clearTimeout(inspectTimer);
      const all = [...deployments.values()];
      for (const instance of all.flatMap((d) => d.instances)) for (const timer of instance.timers) clearTimeout(timer);
      await removeContainers(all.flatMap((d) => d.instances.map((i) => i.containerId)));
      const refs = all.map((d) => d.imageRef).filter((r): r is string => Boolean(r));
      if (refs.length > 0) await exec.run(engine.command, ["rmi", ...refs]).catch(() => undefined);
      deployments.clear();
    },
  };
}

function isProbe(value: unknown): value is ProbeSpec {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function memoryOf(app: ApplicationRecord): string {
  const resources = app.manifest?.resources as { memory?: unknown } | undefined;
  return typeof resources?.memory === "string" ? resources.memory.trim() : DEFAULT_MEMORY;
}

function cpus(app: ApplicationRecord): number {
  const resources = app.manifest?.resources as { cpu?: unknown } | undefined;
  const text = typeof resources?.cpu === "string" ? resources.cpu.trim() : DEFAULT_CPU;
  const value = text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
  return Number.isFinite(value) && value > 0 ? value : Number(DEFAULT_CPU);
}

const UNITS: Record<string, number> = { "": 1, B: 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** platform.md §1.3: K/M/G... are powers of 10, Ki/Mi/Gi... powers of 2, no unit is bytes. */
export function memoryBytes(text: string): number {
  const match = /^(\d+)\s*([BKMGTPE]i?)?$/.exec(text);
  const unit = UNITS[match?.[2] ?? ""];
  if (!match || unit === undefined) return 512e6;
  return Number(match[1]) * unit;
}

/**
 * Both streams of `logs --timestamps`, in time order, without the timestamps; only the last
 * 35 MB are kept, like the platform.
 */
export function mergeLogs(stdout: string, stderr: string): { logs: string; truncated: boolean } {
  const lines = [...stdout.split("\n"), ...stderr.split("\n")]
    .filter((line) => line !== "")
    .map((line) => {
      const space = line.indexOf(" ");
      const at = space > 0 ? Date.parse(line.slice(0, space)) : Number.NaN;
      return Number.isNaN(at) ? { at: 0, text: line } : { at, text: line.slice(space + 1) };
    })
    // Stable: lines of the same millisecond keep their order within each stream.
    .sort((a, b) => a.at - b.at);
  let logs = lines.map((l) => l.text).join("\n");
  if (logs !== "") logs += "\n";
  if (Buffer.byteLength(logs) <= LOG_LIMIT_BYTES) return { logs, truncated: false };
  return { logs: Buffer.from(logs).subarray(-LOG_LIMIT_BYTES).toString("utf8"), truncated: true };
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
