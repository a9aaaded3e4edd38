import { createHash } from "node:crypto";
import { chmod } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { Exec, RunOptions } from "../exec.js";
import type { Engine } from "../image/engine.js";
import type { Redactor } from "../secrets.js";
import type { Logger } from "../ui/logger.js";
import { bootstrapUserOf, serviceUsersOf, subscribersOf } from "./applications.js";
import { InstanceLauncher } from "./launcher.js";
import { logsArgs, logsDocument } from "./logs.js";
import { instanceStatus, Monitor, type Instance } from "./monitor.js";
import type { NetworkMode } from "./network-mode.js";
import type { SandboxCore } from "./router.js";
import { RunDirectory } from "./run-dir.js";
import { SANDBOX_LABEL, serviceResources } from "./run-spec.js";
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
  tenant: { id: string; user: string; password: string } | undefined;
  fingerprint: string;
}

/**
 * Runs uploaded microservices in Docker or Podman as the platform would (platform.md §4):
 * after an upload and at least one subscription the image is loaded under the sandbox's own
 * name (service-images.ts) and one instance per replica (per subscribed tenant for PER_TENANT)
 * is started by the launcher (launcher.ts). The monitor (monitor.ts) keeps their state and
 * probes; the gateway asks `target` where a ready instance answers. Everything it makes carries the
 * data directory's label or name and is removed when it starts and when it stops.
 */
export function createContainerRuntime(core: Omit<SandboxCore, "runtime">, accept: ConnectionAcceptor, options: ContainerRuntimeOptions): ServiceRuntime & { start(): Promise<void> } {
  const { engine, exec, logger } = options;
  const deployments = new Map<string, Deployment>();
  const stopping = new AbortController();
  const label = `${SANDBOX_LABEL}=${core.store.dataDir}`;
  const imagePrefix = sandboxImagePrefix(core.store.dataDir);
  let runDir: RunDirectory | undefined;
  let launcher: InstanceLauncher | undefined;
  let apiSocket: Server | undefined;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));

  const engineRun = (args: string[], extra: RunOptions = {}) => exec.run(engine.command, args, { signal: stopping.signal, ...extra });
  /** For clean-up, which must also run while the sandbox shuts down after Ctrl-C. */
  const engineRunToEnd = (args: string[]) => exec.run(engine.command, args);

  const monitor = new Monitor({
    engine: (args, signal) => engineRun(args, signal ? { signal: AbortSignal.any([signal, stopping.signal]) } : {}),
    logger,
    stopping: stopping.signal,
    restarted: async (instance) => {
      if (!stopping.signal.aborted) await launcher?.relayInto(instance);
    },
  });

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
    const bootstrap = bootstrapUserOf(state, app);
    for (const [slot, spec] of wanted) {
      if (deployment.instances.some((i) => i.slot === slot)) continue;
      const instance = await (launcher as InstanceLauncher).launch({
        app,
        versionId: version.id,
        imageRef: deployment.imageRef ?? "",
        command: deployment.command,
        slot,
        fingerprint: spec.fingerprint,
        bootstrap: { name: bootstrap?.name ?? "", password: bootstrap?.password ?? "" },
        tenant: spec.tenant,
      });
      monitor.track(instance);
      deployment.instances.push(instance);
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
      const scope = tenant && serviceUser ? { id: tenant, user: serviceUser.name, password: serviceUser.password } : undefined;
      for (let replica = 0; replica < resources.replicas; replica++) slots.set(`${tenant ?? "shared"}#${replica}`, { tenant: scope, fingerprint });
    }
    return slots;
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
    for (const instance of instances) monitor.untrack(instance);
    deployment.instances = deployment.instances.filter((i) => !instances.includes(i));
    await removeContainers(instances.map((i) => i.containerId));
    for (const instance of instances) await launcher?.dismiss(instance);
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
      launcher = new InstanceLauncher({
        engine,
        network: options.network,
        engineRun: (args) => engineRun(args),
        removeContainers,
        runDir,
        baseUrl: core.baseUrl,
        dataDir: core.store.dataDir,
        redactor: options.redactor,
        logger,
      });
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
      launcher?.stopRelays();
      const all = [...deployments.values()];
      await removeContainers(all.flatMap((d) => d.instances.map((i) => i.containerId)));
      await removeImages(await sandboxImageRefs(engineRunToEnd, imagePrefix).catch(() => all.map((d) => d.imageRef).filter((r): r is string => Boolean(r))));
      deployments.clear();
      await new Promise<void>((resolve) => (apiSocket ? apiSocket.close(() => resolve()) : resolve()));
      await runDir?.remove();
    },
  };
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

