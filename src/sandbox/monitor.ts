import type { RunResult } from "../exec.js";
import type { Logger } from "../ui/logger.js";
import { probePort, probeTiming, ProbeState, runProbe, type ProbeSpec, type ProbeTiming } from "./probes.js";
import { INSPECT_FORMAT, parseInspectLines, type ContainerState } from "./run-spec.js";
import type { Endpoint, InstanceStatus } from "./runtime.js";

/** One running container of a service, as the monitor keeps it current. */
export interface Instance {
  /** Like the platform's `<name>-scope-<tenant>-deployment-<hash>-<suffix>`. */
  name: string;
  /** The name of its files and sockets in the run directory (run-dir.ts). */
  key: string;
  /** "<scope>#<replica>", stable while the deployment's shape stays. */
  slot: string;
  tenant: string | undefined;
  containerId: string;
  /** Where each container port the sandbox uses answers: 80, and the ports probes check. */
  endpoints: Map<number, Endpoint>;
  /** Changes in the environment (e.g. a new service-user password) mean a new container. */
  fingerprint: string;
  manifest: Record<string, unknown>;
  running: boolean;
  restarts: number;
  /** The container's first process on the host (0 when not running); a new one means it restarted. */
  pid: number;
  lastUpdated: string;
  readiness: ProbeState | undefined;
  liveness: ProbeState | undefined;
  timers: NodeJS.Timeout[];
}

export interface MonitorContext {
  /** Runs the engine; aborts when the sandbox stops, or when `signal` does. */
  engine(args: string[], signal?: AbortSignal): Promise<RunResult>;
  logger: Pick<Logger, "debug" | "info">;
  stopping: AbortSignal;
  /** The instance's container runs a new first process (the engine or a liveness probe restarted it). */
  restarted(instance: Instance): Promise<void>;
}

/** How often the engine is asked whether containers still run. */
const INSPECT_INTERVAL_MS = 2000;

/**
 * Keeps instances current as the platform's kubelet would: readiness and liveness probes by
 * their manifest timing (platform.md §1.5), a restart when liveness fails, and one `inspect`
 * of every container every two seconds for running state, restart counts and new processes.
 */
export class Monitor {
  readonly #context: MonitorContext;
  readonly #instances = new Set<Instance>();
  #inspectTimer: NodeJS.Timeout | undefined;

  constructor(context: MonitorContext) {
    this.#context = context;
  }

  track(instance: Instance): void {
    this.#instances.add(instance);
    this.#scheduleProbes(instance);
    this.#ensureInspecting();
  }

  untrack(instance: Instance): void {
    this.#instances.delete(instance);
    clearTimers(instance);
  }

  stop(): void {
    if (this.#inspectTimer) clearTimeout(this.#inspectTimer);
    for (const instance of this.#instances) clearTimers(instance);
    this.#instances.clear();
  }

  #scheduleProbes(instance: Instance): void {
    clearTimers(instance);
    const readiness = isProbe(instance.manifest.readinessProbe) ? instance.manifest.readinessProbe : undefined;
    const liveness = isProbe(instance.manifest.livenessProbe) ? instance.manifest.livenessProbe : undefined;
    // Without a readiness probe an instance is ready as soon as it runs; without liveness it is never restarted.
    instance.readiness = readiness ? new ProbeState(probeTiming(readiness), false) : undefined;
    instance.liveness = liveness ? new ProbeState(probeTiming(liveness), true) : undefined;
    if (readiness && instance.readiness) this.#loop(instance, readiness, probeTiming(readiness), instance.readiness, false);
    if (liveness && instance.liveness) this.#loop(instance, liveness, probeTiming(liveness), instance.liveness, true);
  }

  #loop(instance: Instance, spec: ProbeSpec, timing: ProbeTiming, state: ProbeState, restartsOnFailure: boolean): void {
    const tick = async () => {
      if (this.#context.stopping.aborted || !this.#instances.has(instance)) return;
      const port = probePort(spec) ?? 80;
      const endpoint = instance.endpoints.get(port) ?? instance.endpoints.get(80);
      const ok = instance.running && endpoint !== undefined && (await runProbe(spec, { endpoint, exec: (command, timeoutMs) => this.#execProbe(instance, command, timeoutMs) }, timing.timeoutMs));
      const flippedToFailing = state.record(ok);
      instance.lastUpdated = new Date().toISOString();
      if (restartsOnFailure && flippedToFailing) {
        await this.#restart(instance);
        return;
      }
      instance.timers.push(setTimeout(() => void tick(), timing.periodMs).unref());
    };
    instance.timers.push(setTimeout(() => void tick(), timing.initialDelayMs).unref());
  }

  async #execProbe(instance: Instance, command: string[], timeoutMs: number): Promise<boolean> {
    try {
      await this.#context.engine(["exec", instance.containerId, ...command], AbortSignal.timeout(timeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  /** A failed liveness probe restarts the container, as the kubelet does. */
  async #restart(instance: Instance): Promise<void> {
    this.#context.logger.info(`Liveness probe failed: restarting ${instance.name}`);
    instance.restarts++;
    try {
      await this.#context.engine(["restart", "-t", "1", instance.containerId]);
    } catch (error) {
      this.#context.logger.debug(`Restart of ${instance.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.#instances.has(instance)) this.#scheduleProbes(instance);
  }

  #ensureInspecting(): void {
    if (this.#inspectTimer || this.#context.stopping.aborted) return;
    const tick = async () => {
      const instances = [...this.#instances];
      if (instances.length > 0) await this.#inspect(instances);
      if (!this.#context.stopping.aborted) this.#inspectTimer = setTimeout(() => void tick(), INSPECT_INTERVAL_MS).unref();
    };
    this.#inspectTimer = setTimeout(() => void tick(), INSPECT_INTERVAL_MS).unref();
  }

  async #inspect(instances: Instance[]): Promise<void> {
    let states: ContainerState[];
    try {
      states = parseInspectLines((await this.#context.engine(["inspect", "--format", INSPECT_FORMAT, ...instances.map((i) => i.containerId)])).stdout);
    } catch (error) {
      if (this.#context.stopping.aborted) return;
      // A container that vanished makes inspect fail for all; ask one by one.
      this.#context.logger.debug(`inspect failed: ${error instanceof Error ? error.message : String(error)}`);
      states = [];
      for (const instance of instances) {
        try {
          states.push(...parseInspectLines((await this.#context.engine(["inspect", "--format", INSPECT_FORMAT, instance.containerId])).stdout));
        } catch {
          instance.running = false;
        }
      }
    }
    for (const state of states) {
      const instance = instances.find((i) => state.id.startsWith(i.containerId) || i.containerId.startsWith(state.id));
      if (instance && this.#instances.has(instance)) await this.#apply(instance, state);
    }
  }

  async #apply(instance: Instance, state: ContainerState): Promise<void> {
    if (state.running !== instance.running) instance.lastUpdated = new Date().toISOString();
    instance.running = state.running;
    // Restarts by the engine (crashes) add to those our liveness probes caused.
    instance.restarts = Math.max(instance.restarts, state.restarts);
    const newProcess = state.running && state.pid !== 0 && state.pid !== instance.pid;
    instance.pid = state.pid;
    if (newProcess) await this.#context.restarted(instance);
  }
}

export function instanceStatus(instance: Instance): InstanceStatus {
  const ready = instance.running && (instance.readiness?.passing ?? true) && (instance.liveness?.passing ?? true);
  return { name: instance.name, tenant: instance.tenant, running: instance.running, ready, restarts: instance.restarts, lastUpdated: instance.lastUpdated };
}

function clearTimers(instance: Instance): void {
  for (const timer of instance.timers) clearTimeout(timer);
  instance.timers = [];
}

function isProbe(value: unknown): value is ProbeSpec {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
