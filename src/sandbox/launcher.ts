import { randomBytes } from "node:crypto";
import { chmod, rename, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { CommandFailedError, type RunResult } from "../exec.js";
import type { Engine } from "../image/engine.js";
import type { Redactor } from "../secrets.js";
import type { Logger } from "../ui/logger.js";
import type { Instance } from "./monitor.js";
import type { NetworkMode } from "./network-mode.js";
import { probePort, type ProbeSpec } from "./probes.js";
import { startRelay, type Relay } from "./relay-process.js";
import type { RunDirectory } from "./run-dir.js";
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
import type { Endpoint } from "./runtime.js";
import type { ApplicationRecord } from "./state.js";

export interface LauncherContext {
  engine: Engine;
  network: NetworkMode;
  /** Runs the engine; aborts when the sandbox stops. */
  engineRun(args: string[]): Promise<RunResult>;
  /** Removes containers (by id or name), also while the sandbox stops. */
  removeContainers(ids: string[]): Promise<void>;
  runDir: RunDirectory;
  /** The sandbox's own address: C8Y_BASEURL, and the port the relay listens on inside a namespace. */
  baseUrl: string;
  dataDir: string;
  redactor: Pick<Redactor, "add">;
  logger: Pick<Logger, "debug" | "warn" | "info">;
}

/** One instance to start: which application, image and slot, and whose credentials it gets. */
export interface LaunchRequest {
  app: ApplicationRecord;
  versionId: string;
  imageRef: string;
  /** The image's ENTRYPOINT and CMD, which the launcher starts. */
  command: string[];
  slot: string;
  fingerprint: string;
  bootstrap: { name: string; password: string };
  /** PER_TENANT: the tenant the instance serves and its service user. */
  tenant: { id: string; user: string; password: string } | undefined;
}

interface Reach {
  plan: NetworkPlan;
  serverPort: number;
  endpoints: Map<number, Endpoint>;
}

/**
 * Starts and ends single instances: their files in the run directory, the `run` from their
 * specification (run-spec.ts), and, when isolated, the relay into their network namespace,
 * which follows the container when it restarts.
 */
export class InstanceLauncher {
  readonly #context: LauncherContext;
  readonly #relays = new Map<Instance, Relay>();
  readonly #imagesWithoutShell = new Set<string>();

  constructor(context: LauncherContext) {
    this.#context = context;
  }

  async launch(request: LaunchRequest): Promise<Instance> {
    const { app } = request;
    const { runDir, network, logger } = this.#context;
    const manifest = app.manifest ?? {};
    const key = randomBytes(4).toString("hex");
    const name = `${app.name}-scope-${request.tenant?.id ?? app.owner}-deployment-${request.versionId.slice(-6)}-${key.slice(0, 5)}`;
    const ports = [80, ...probePorts(manifest)];
    const reach = await this.#reachFor(key, ports);
    const environment = serviceEnvironment({
      application: app,
      resources: serviceResources(manifest),
      baseUrl: this.#callbackUrl(),
      serverPort: reach.serverPort,
      bootstrap: request.bootstrap,
      ...(request.tenant ? { tenant: request.tenant } : {}),
    });
    const secrets = secretEnvironment(environment);
    for (const value of Object.values(secrets)) this.#context.redactor.add(value);
    if (request.command.length === 0) throw new Error(`The image of ${app.name} names no command (neither ENTRYPOINT nor CMD).`);

    const hostDir = await runDir.instanceDir(key);
    await writeForContainer(join(hostDir, "launch.sh"), LAUNCHER_SCRIPT, 0o755);
    const envFile = join(hostDir, "env");
    // With a relay, the service may call the sandbox only once the relay listens: the launcher waits for the file.
    const isolated = network === "isolated";
    if (!isolated) await writeForContainer(envFile, shellEnvironment(secrets), 0o644);

    const containerId = await this.#run(
      app,
      {
        name: `c8y-ms-${name}`,
        labels: { [SANDBOX_LABEL]: this.#context.dataDir, [APPLICATION_LABEL]: app.id },
        image: request.imageRef,
        resources: serviceResources(manifest),
        network: reach.plan,
        environment,
        secrets: { kind: "launcher", hostDir, command: request.command },
      },
      key,
    );
    const instance: Instance = {
      name,
      key,
      slot: request.slot,
      tenant: request.tenant?.id,
      containerId,
      endpoints: reach.endpoints,
      fingerprint: request.fingerprint,
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
        instance.pid = parseInspectLines((await this.#context.engineRun(["inspect", "--format", INSPECT_FORMAT, containerId])).stdout)[0]?.pid ?? 0;
        await this.relayInto(instance);
      } catch (error) {
        await this.#context.removeContainers([containerId]);
        await runDir.removeInstance(key, ports);
        throw error;
      }
      await writeForContainer(envFile, shellEnvironment(secrets), 0o644);
    }
    const reachable = reach.endpoints.get(80);
    logger.info(`Started ${app.name} (${name})${reachable && "port" in reachable ? ` on 127.0.0.1:${reachable.port}` : ""}`);
    return instance;
  }

  /** (Re)starts the instance's relay in its container's current network namespace. */
  async relayInto(instance: Instance): Promise<void> {
    if (this.#context.network !== "isolated") return;
    this.#relays.get(instance)?.stop();
    this.#relays.delete(instance);
    const { runDir, baseUrl, logger } = this.#context;
    const inbound = [...instance.endpoints.keys()].map((port) => ({ socket: runDir.socket(instance.key, port), port }));
    const relay = await startRelay(logger, instance.pid, { inbound, outbound: { port: Number(new URL(baseUrl).port), socket: runDir.apiSocket } });
    this.#relays.set(instance, relay);
  }

  /** After its container is gone: its relay and its files. */
  async dismiss(instance: Instance): Promise<void> {
    this.#relays.get(instance)?.stop();
    this.#relays.delete(instance);
    await this.#context.runDir.removeInstance(instance.key, instance.endpoints.keys());
  }

  stopRelays(): void {
    for (const relay of this.#relays.values()) relay.stop();
    this.#relays.clear();
  }

  /**
   * How a service reaches the sandbox. Isolated and on the host network that is the sandbox's
   * own address (inside a namespace the relay listens there); with published ports it is the
   * engine's name for the host (Docker Desktop and Podman forward it to the host's loopback).
   */
  #callbackUrl(): string {
    if (this.#context.network !== "publish") return this.#context.baseUrl;
    const url = new URL(this.#context.baseUrl);
    url.hostname = this.#context.engine.name === "podman" ? "host.containers.internal" : "host.docker.internal";
    return url.toString().replace(/\/$/, "");
  }

  /**
   * `run`, and nothing left behind when it fails. An image without /bin/sh cannot run the
   * launcher: it is started again with an environment file, and the user told what that shows.
   */
  async #run(app: ApplicationRecord, spec: RunSpec, key: string): Promise<string> {
    const { engine, engineRun, removeContainers, logger } = this.#context;
    try {
      return lastLine((await engineRun(runArgs(engine.name, spec))).stdout);
    } catch (error) {
      await removeContainers([spec.name]);
      const noShell = error instanceof CommandFailedError && error.status === COMMAND_NOT_FOUND_STATUS && spec.secrets.kind === "launcher";
      if (!noShell) throw error;
    }
    if (!this.#imagesWithoutShell.has(spec.image)) {
      this.#imagesWithoutShell.add(spec.image);
      logger.warn(`The image of ${app.name} has no /bin/sh for the sandbox's launcher: its passwords are passed as environment variables, which \`${engine.command} inspect\` shows to anyone who may use ${engine.name}.`);
    }
    const path = join(this.#context.runDir.path, `${key}.env`);
    await writeFileAtomic(path, envFileText(secretEnvironment(spec.environment)), { mode: 0o600 });
    const secrets: SecretDelivery = { kind: "env-file", path };
    try {
      return lastLine((await engineRun(runArgs(engine.name, { ...spec, secrets }))).stdout);
    } catch (error) {
      await removeContainers([spec.name]);
      throw error;
    }
  }

  /** Where the instance listens and how the gateway and probes get there, by network mode. */
  async #reachFor(key: string, ports: number[]): Promise<Reach> {
    const endpoints = new Map<number, Endpoint>();
    switch (this.#context.network) {
      case "isolated":
        for (const port of ports) endpoints.set(port, { socketPath: this.#context.runDir.socket(key, port) });
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
