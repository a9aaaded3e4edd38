import { createHash, randomBytes } from "node:crypto";
import { chmod, rename, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { CommandFailedError, type Exec, type RunOptions } from "../exec.js";
import type { Engine } from "../image/engine.js";
import type { Redactor } from "../secrets.js";
import type { Logger } from "../ui/logger.js";
import { bootstrapUserOf, serviceUsersOf, subscribersOf } from "./applications.js";
import { logsArgs, logsDocument } from "./logs.js";
import { instanceStatus, Monitor, type Instance } from "./monitor.js";
import type { NetworkMode } from "./network-mode.js";
import { probePort, type ProbeSpec } from "./probes.js";
import { startRelay, type Relay } from "./relay-process.js";
import type { SandboxCore } from "./router.js";
import { RunDirectory } from "./run-dir.js";
import {
  APPLICATION_LABEL,
  COMMAND_NOT_FOUND_STATUS,
  envFileText,
  INSPECT_FORMAT,
  LAUNCHER_SCRIPT,
  parseInspectLines,
  runArgs,
  SANDBOX_LABEL,
  secretEnvironment,
  serviceEnvironment,
  serviceResources,
  shellEnvironment,
  type NetworkPlan,
  type RunSpec,
  type SecretDelivery,
} from "./run-spec.js";
import { healthOf, type Endpoint, type LogsDocument, type ServiceRuntime, type ServiceStatus } from "./runtime.js";
import { imageCommand, loadServiceImage, sandboxImagePrefix, sandboxImageRef, sandboxImageRefs } from "./service-images.js";
import type { ApplicationRecord } from "./state.js";

export interface ContainerRuntimeOptions {
  engine: Engine;
  network: NetworkMode;
  exec: Exec;
  /** Passwords the sandbox hands to services must not show in --verbose output. */
  redactor: Pick<Redactor, "add">;
  logger: Pick<Logger, "debug" | "warn" | "info">;
}

/** Takes a connection to the sandbox's HTTP server that arrived some other way (a relay's unix socket). */
export type ConnectionAcceptor = (socket: Socket) => void;

interface Deployment {
  app: string;
  versionId: string | undefined;
  /** The sandbox's own tag of the loaded image (service-images.ts). */
  imageRef: string | undefined;
  /** The image's entrypoint and command, which the launcher runs. */
  command: string[];
  instances: Instance[];
  reason: string | undefined;
  /** Changes to one service run one after another. */
  queue: Promise<void>;
  pending: boolean;
  nextTarget: number;
}

interface SlotSpec {
  tenant: string | undefined;
  serviceUser: { name: string; password: string } | undefined;
  fingerprint: string;
}

/**
 * Runs uploaded microservices in Docker or Podman as the platform would (platform.md §4):
 * after an upload and at least one subscription the image is loaded under the sandbox's own
 * name and started by its run specification (run-spec.ts), one container per replica (per
 * subscribed tenant for PER_TENANT). The monitor (monitor.ts) keeps their state and probes;
 * the gateway asks `target` where a ready instance answers. Everything it makes carries the
 * data directory's label or name and is removed when it starts and when it stops.
 */
export function createContainerRuntime(core: Omit<SandboxCore, "runtime">, accept: ConnectionAcceptor, options: ContainerRuntimeOptions): ServiceRuntime & { start(): Promise<void> } {
  const { engine, exec, logger } = options;
  const deployments = new Map<string, Deployment>();
  const relays = new Map<Instance, Relay>();
  const stopping = new AbortController();
  const label = `${SANDBOX_LABEL}=${core.store.dataDir}`;
  const imagePrefix = sandboxImagePrefix(core.store.dataDir);
  let runDir: RunDirectory | undefined;
  let apiSocket: Server | undefined;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const imagesWithoutShell = new Set<string>();

  const engineRun = (args: string[], extra: RunOptions = {}) => exec.run(engine.command, args, { signal: stopping.signal, ...extra });
  /** For clean-up, which must also run while the sandbox shuts down after Ctrl-C. */
  const engineRunToEnd = (args: string[]) => exec.run(engine.command, args);

  const monitor = new Monitor({
    engine: (args, signal) => engineRun(args, signal ? { signal: AbortSignal.any([signal, stopping.signal]) } : {}),
    logger,
    stopping: stopping.signal,
    restarted: (instance) => relayInto(instance),
  });

  /**
   * How a service reaches the sandbox. Isolated and on the host network that is the sandbox's
   * own address (inside a namespace the relay listens there); with published ports it is the
   * engine's name for the host (Docker Desktop and Podman forward it to the host's loopback).
   */
  const callbackUrl = () => {
    if (options.network !== "publish") return core.baseUrl;
    const url = new URL(core.baseUrl);
    url.hostname = engine.name === "podman" ? "host.containers.internal" : "host.docker.internal";
    return url.toString().replace(/\/$/, "");
  };

  function deploymentOf(appId: string): Deployment {
    let deployment = deployments.get(appId);
    if (!deployment) {
      deployment = { app: appId, versionId: undefined, imageRef: undefined, command: [], instances: [], reason: undefined, queue: Promise.resolve(), pending: false, nextTarget: 0 };
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
      await started;
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
      // A new binary replaces the running containers, and its image the old one.
      await removeInstances(deployment, deployment.instances);
      await untag(deployment);
      deployment.reason = "Loading the image";
      const ref = sandboxImageRef(imagePrefix, app.name, version.id);
      await loadServiceImage(engineRun, join(core.store.dataDir, version.file), ref, version.imageId);
      deployment.imageRef = ref;
      deployment.versionId = version.id;
      deployment.command = await imageCommand(engineRun, ref);
    }
    deployment.reason = undefined;

    const wanted = desiredSlots(app, subscribers);
    const stale = deployment.instances.filter((i) => wanted.get(i.slot)?.fingerprint !== i.fingerprint);
    await removeInstances(deployment, stale);
    for (const [slot, spec] of wanted) {
      if (deployment.instances.some((i) => i.slot === slot)) continue;
      deployment.instances.push(await startInstance(app, deployment, slot, spec));
    }
  }

  /** One slot per replica; PER_TENANT multiplies by subscribed tenants, each with its service user. */
  function desiredSlots(app: ApplicationRecord, subscribers: string[]): Map<string, SlotSpec> {
    const state = core.store.state;
    const manifest = app.manifest ?? {};
    const resources = serviceResources(manifest);
    const bootstrap = bootstrapUserOf(state, app);
    const slots = new Map<string, SlotSpec>();
    const scopes: (string | undefined)[] = resources.isolation === "PER_TENANT" ? subscribers : [undefined];
    for (const tenant of scopes) {
      const serviceUser = tenant ? serviceUsersOf(state, app).find((u) => u.tenant === tenant) : undefined;
      const fingerprint = createHash("sha256")
        .update(JSON.stringify([app.name, app.key, bootstrap?.name, bootstrap?.password, serviceUser?.name, serviceUser?.password, manifest]))
        .digest("hex");
      for (let replica = 0; replica < resources.replicas; replica++) {
        slots.set(`${tenant ?? "shared"}#${replica}`, { tenant, serviceUser: serviceUser && { name: serviceUser.name, password: serviceUser.password }, fingerprint });
      }
    }
    return slots;
  }

  async function startInstance(app: ApplicationRecord, deployment: Deployment, slot: string, spec: SlotSpec): Promise<Instance> {
    const directory = runDir as RunDirectory;
    const manifest = app.manifest ?? {};
    const key = randomBytes(4).toString("hex");
    const name = `${app.name}-scope-${spec.tenant ?? app.owner}-deployment-${(deployment.versionId ?? "0").slice(-6)}-${key.slice(0, 5)}`;
    const ports = [80, ...probePorts(manifest)];
    const reach = await reachFor(key, ports);
    const bootstrap = bootstrapUserOf(core.store.state, app);
    const environment = serviceEnvironment({
      application: app,
      resources: serviceResources(manifest),
      baseUrl: callbackUrl(),
      serverPort: reach.serverPort,
      bootstrap: { name: bootstrap?.name ?? "", password: bootstrap?.password ?? "" },
      ...(spec.tenant && spec.serviceUser ? { tenant: { id: spec.tenant, user: spec.serviceUser.name, password: spec.serviceUser.password } } : {}),
    });
    const secrets = secretEnvironment(environment);
    for (const value of Object.values(secrets)) options.redactor.add(value);
    if (deployment.command.length === 0) throw new Error(`The image of ${app.name} names no command (neither ENTRYPOINT nor CMD).`);

    const hostDir = await directory.instanceDir(key);
    await writeForContainer(join(hostDir, "launch.sh"), LAUNCHER_SCRIPT, 0o755);
    const envFile = join(hostDir, "env");
    // With a relay, the service may call the sandbox only once the relay listens: the launcher waits for the file.
    const isolated = options.network === "isolated";
    if (!isolated) await writeForContainer(envFile, shellEnvironment(secrets), 0o644);

    const containerId = await run(
      app,
      {
        name: `c8y-ms-${name}`,
        labels: { [SANDBOX_LABEL]: core.store.dataDir, [APPLICATION_LABEL]: app.id },
        image: deployment.imageRef ?? "",
        resources: serviceResources(manifest),
        network: reach.plan,
        environment,
        secrets: { kind: "launcher", hostDir, command: deployment.command },
      },
      key,
    );
    const instance: Instance = {
      name,
      key,
      slot,
      tenant: spec.tenant,
      containerId,
      endpoints: reach.endpoints,
      fingerprint: spec.fingerprint,
      manifest,
      running: true,
      restarts: 0,
      pid: 0,
      lastUpdated: new Date().toISOString(),
      readiness: undefined,
      liveness: undefined,
      timers: [],
    };
    if (isolated) {
      try {
        instance.pid = parseInspectLines((await engineRun(["inspect", "--format", INSPECT_FORMAT, containerId])).stdout)[0]?.pid ?? 0;
        await relayInto(instance);
      } catch (error) {
        await removeContainers([containerId]);
        await directory.removeInstance(key, ports);
        throw error;
      }
      await writeForContainer(envFile, shellEnvironment(secrets), 0o644);
    }
    monitor.track(instance);
    const reachable = reach.endpoints.get(80);
    logger.info(`Started ${app.name} (${name})${reachable && "port" in reachable ? ` on 127.0.0.1:${reachable.port}` : ""}`);
    return instance;
  }

  /**
   * `run`, and nothing left behind when it fails. An image without /bin/sh cannot run the
   * launcher: it is started again with an environment file, and the user told what that shows.
   */
  async function run(app: ApplicationRecord, spec: RunSpec, key: string): Promise<string> {
    try {
      return lastLine((await engineRun(runArgs(engine.name, spec))).stdout);
    } catch (error) {
      await removeContainers([spec.name]);
      const noShell = error instanceof CommandFailedError && error.status === COMMAND_NOT_FOUND_STATUS && spec.secrets.kind === "launcher";
      if (!noShell) throw error;
    }
    if (!imagesWithoutShell.has(spec.image)) {
      imagesWithoutShell.add(spec.image);
      logger.warn(`The image of ${app.name} has no /bin/sh for the sandbox's launcher: its passwords are passed as environment variables, which \`${engine.command} inspect\` shows to anyone who may use ${engine.name}.`);
    }
    const path = join((runDir as RunDirectory).path, `${key}.env`);
    await writeFileAtomic(path, envFileText(secretEnvironment(spec.environment)), { mode: 0o600 });
    const secrets: SecretDelivery = { kind: "env-file", path };
    try {
      return lastLine((await engineRun(runArgs(engine.name, { ...spec, secrets }))).stdout);
    } catch (error) {
      await removeContainers([spec.name]);
      throw error;
    }
  }

  interface Reach {
    plan: NetworkPlan;
    serverPort: number;
    endpoints: Map<number, Endpoint>;
  }

  /** Where the instance listens and how the gateway and probes get there, by network mode. */
  async function reachFor(key: string, ports: number[]): Promise<Reach> {
    const endpoints = new Map<number, Endpoint>();
    switch (options.network) {
      case "isolated":
        for (const port of ports) endpoints.set(port, { socketPath: (runDir as RunDirectory).socket(key, port) });
        return { plan: { mode: "isolated" }, serverPort: 80, endpoints };
      case "host": {
        // One inbound port per service (platform.md §4.2): on the host network a free one, in SERVER_PORT.
        const serverPort = await freePort();
        endpoints.set(80, { host: "127.0.0.1", port: serverPort });
        for (const port of ports.filter((p) => p !== 80)) endpoints.set(port, { host: "127.0.0.1", port });
        return { plan: { mode: "host" }, serverPort, endpoints };
      }
      case "publish": {
        const mapping: [number, number][] = [];
        for (const port of ports) {
          const host = await freePort();
          mapping.push([host, port]);
          endpoints.set(port, { host: "127.0.0.1", port: host });
        }
        return { plan: { mode: "publish", ports: mapping }, serverPort: 80, endpoints };
      }
    }
  }

  /** (Re)starts the instance's relay in its container's current network namespace. */
  async function relayInto(instance: Instance): Promise<void> {
    if (options.network !== "isolated" || stopping.signal.aborted) return;
    relays.get(instance)?.stop();
    relays.delete(instance);
    const directory = runDir as RunDirectory;
    const inbound = [...instance.endpoints.keys()].map((port) => ({ socket: directory.socket(instance.key, port), port }));
    const relay = await startRelay(logger, instance.pid, { inbound, outbound: { port: Number(new URL(core.baseUrl).port), socket: directory.apiSocket } });
    relays.set(instance, relay);
  }

  async function untag(deployment: Deployment): Promise<void> {
    const ref = deployment.imageRef;
    deployment.imageRef = undefined;
    deployment.versionId = undefined;
    deployment.command = [];
    if (ref) await removeImages([ref]);
  }

  async function removeImages(refs: string[]): Promise<void> {
    if (refs.length === 0) return;
    try {
      // Removes our tags; an image goes only if nothing else (a user's tag) holds it.
      await engineRunToEnd(["rmi", ...refs]);
    } catch (error) {
      logger.debug(`Could not remove ${refs.join(", ")}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function removeInstances(deployment: Deployment, instances: Instance[]): Promise<void> {
    if (instances.length === 0) return;
    for (const instance of instances) {
      monitor.untrack(instance);
      relays.get(instance)?.stop();
      relays.delete(instance);
    }
    deployment.instances = deployment.instances.filter((i) => !instances.includes(i));
    await removeContainers(instances.map((i) => i.containerId));
    for (const instance of instances) await runDir?.removeInstance(instance.key, instance.endpoints.keys());
  }

  async function removeContainers(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await engineRunToEnd(["rm", "-f", ...ids]);
    } catch (error) {
      // `rm -f` of a name that never became a container fails; that is nothing left behind.
      logger.debug(`Could not remove containers ${ids.join(", ")}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** What an earlier run of this data directory left (a crash, a kill): containers, tags, working files. */
  async function removeLeftovers(): Promise<void> {
    const { stdout } = await engineRunToEnd(["ps", "-aq", "--filter", `label=${label}`]);
    await removeContainers(stdout.split("\n").map((l) => l.trim()).filter(Boolean));
    await removeImages(await sandboxImageRefs(engineRunToEnd, imagePrefix));
  }

  function findInstance(app: ApplicationRecord, name: string): Instance | undefined {
    return deployments.get(app.id)?.instances.find((i) => i.name === name);
  }

  return {
    async start() {
      await removeLeftovers();
      runDir = await RunDirectory.open(core.store.dataDir);
      if (options.network === "isolated") apiSocket = await listenUnix(runDir.apiSocket, accept);
      markStarted();
      for (const app of core.store.state.applications) reconcile(app.id);
    },

    reconcile,

    status(app): ServiceStatus {
      const deployment = deployments.get(app.id);
      const instances = (deployment?.instances ?? []).map(instanceStatus);
      const subscribers = subscribersOf(core.store.state, app).length;
      const resources = serviceResources(app.manifest ?? {});
      const desired = subscribers === 0 ? 0 : resources.isolation === "PER_TENANT" ? resources.replicas * subscribers : resources.replicas;
      const lastUpdated = instances.map((i) => i.lastUpdated).sort().pop() ?? app.lastUpdated;
      const status: ServiceStatus = { status: healthOf(instances, desired), lastUpdated, desired, instances };
      const reason = deployment?.reason ?? (desired === 0 ? "No tenant is subscribed, so the service does not run." : undefined);
      if (reason) status.reason = reason;
      return status;
    },

    async logs(app, name, range): Promise<LogsDocument | undefined> {
      const instance = findInstance(app, name);
      if (!instance) return undefined;
      const now = new Date();
      const { stdout, stderr } = await engineRun(logsArgs(instance.containerId, range, now));
      return logsDocument(stdout, stderr, range, now);
    },

    target(app, tenant): Endpoint | string {
      const deployment = deployments.get(app.id);
      if (!deployment || deployment.instances.length === 0) {
        return deployment?.reason
          ? `Microservice ${app.name} is not available: ${deployment.reason}.`
          : `Microservice ${app.name} is not running: it needs an uploaded binary and a subscribed tenant.`;
      }
      const scoped = deployment.instances.filter((i) => i.tenant === undefined || i.tenant === tenant);
      const ready = scoped.filter((i) => instanceStatus(i).ready);
      if (ready.length === 0) return `Microservice ${app.name} is not ready yet (no instance passed its probes).`;
      // Round-robin across replicas (platform.md §4.3, [DOC-BP]).
      const chosen = ready[deployment.nextTarget++ % ready.length] as Instance;
      return chosen.endpoints.get(80) as Endpoint;
    },

    async close() {
      stopping.abort();
      monitor.stop();
      for (const relay of relays.values()) relay.stop();
      relays.clear();
      const all = [...deployments.values()];
      await removeContainers(all.flatMap((d) => d.instances.map((i) => i.containerId)));
      await removeImages(await sandboxImageRefs(engineRunToEnd, imagePrefix).catch(() => all.map((d) => d.imageRef).filter((r): r is string => Boolean(r))));
      deployments.clear();
      await new Promise<void>((resolve) => (apiSocket ? apiSocket.close(() => resolve()) : resolve()));
      await runDir?.remove();
    },
  };
}

/**
 * A file a container reads through its read-only mount, whoever its user is: readable by all
 * whatever the umask (the run directory keeps others on the host out), and there only whole,
 * since the launcher starts as soon as it sees the name.
 */
async function writeForContainer(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.partial`;
  await writeFile(temp, text, { mode });
  await chmod(temp, mode);
  await rename(temp, path);
}

function probePorts(manifest: Record<string, unknown>): number[] {
  const probes = [manifest.livenessProbe, manifest.readinessProbe].filter((p): p is ProbeSpec => typeof p === "object" && p !== null && !Array.isArray(p));
  return [...new Set(probes.map(probePort).filter((p): p is number => p !== undefined && p !== 80))];
}

function lastLine(stdout: string): string {
  return stdout.trim().split("\n").pop() ?? "";
}

/** The sandbox's API on a unix socket, for relays: only the sandbox's user may connect (0600). */
function listenUnix(path: string, accept: ConnectionAcceptor): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(accept);
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      void chmod(path, 0o600).then(() => resolve(server), reject);
    });
  });
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
