import { cpuMillicores, memoryBytes, REPLICAS_MAX, REPLICAS_MIN } from "../manifest/formats.js";
import { MANIFEST_DEFAULTS } from "../manifest/schema.js";
import type { EngineName } from "../image/engine.js";

/**
 * How the sandbox starts one instance of a service, as pure data and command lines (unit-tested
 * like src/image/engine-commands.ts): the platform's runtime contract (platform.md §4.1, §4.2),
 * the manifest's limits, how the instance is reached, and how its passwords reach it without
 * showing in the process table or in `inspect`.
 */

/** Every container the sandbox makes carries this label (value: the data directory). */
export const SANDBOX_LABEL = "c8y-ms.sandbox";
export const APPLICATION_LABEL = "c8y-ms.application";
/** platform.md §4.2: at most 10240 threads per container. */
export const PIDS_LIMIT = 10240;
/** Where the launcher and its environment file appear inside the container. */
export const LAUNCH_DIR = "/c8y-ms-sandbox";
/** The variables that hold passwords: never on a command line, never in the container's config. */
export const SECRET_VARIABLES = ["C8Y_BOOTSTRAP_PASSWORD", "C8Y_PASSWORD"] as const;

export interface ServiceResources {
  /** As the manifest writes it (or the default): what MEMORY_LIMIT says. */
  memory: string;
  memoryBytes: number;
  cpus: number;
  replicas: number;
  isolation: "MULTI_TENANT" | "PER_TENANT";
}

/**
 * The manifest's limits with the platform's defaults (src/manifest/schema.ts). Values the
 * upload check would have refused do not reach here; a missing one takes the default.
 */
export function serviceResources(manifest: Record<string, unknown>): ServiceResources {
  const resources = (typeof manifest.resources === "object" && manifest.resources !== null ? manifest.resources : {}) as { cpu?: unknown; memory?: unknown };
  const memory = typeof resources.memory === "string" ? resources.memory.trim() : MANIFEST_DEFAULTS.resources.memory;
  const cpu = typeof resources.cpu === "string" ? resources.cpu.trim() : MANIFEST_DEFAULTS.resources.cpu;
  const replicas = typeof manifest.replicas === "number" && Number.isInteger(manifest.replicas) ? manifest.replicas : MANIFEST_DEFAULTS.replicas;
  return {
    memory,
    memoryBytes: memoryBytes(memory) ?? (memoryBytes(MANIFEST_DEFAULTS.resources.memory) as number),
    cpus: (cpuMillicores(cpu) ?? (cpuMillicores(MANIFEST_DEFAULTS.resources.cpu) as number)) / 1000,
    replicas: Math.min(REPLICAS_MAX, Math.max(REPLICAS_MIN, replicas)),
    isolation: manifest.isolation === "PER_TENANT" ? "PER_TENANT" : "MULTI_TENANT",
  };
}

export interface EnvironmentInput {
  application: { name: string; key: string; owner: string };
  resources: ServiceResources;
  /** C8Y_BASEURL: where the service reaches the sandbox. */
  baseUrl: string;
  serverPort: number;
  bootstrap: { name: string; password: string };
  /** PER_TENANT only: the tenant this instance serves and its service user. */
  tenant?: { id: string; user: string; password: string };
}

/** The variables the platform gives every service (platform.md §4.1). */
export function serviceEnvironment(input: EnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {
    APPLICATION_NAME: input.application.name,
    APPLICATION_KEY: input.application.key,
    SERVER_PORT: String(input.serverPort),
    C8Y_BASEURL: input.baseUrl,
    C8Y_MICROSERVICE_ISOLATION: input.resources.isolation,
    C8Y_BOOTSTRAP_REGISTER: "false",
    C8Y_BOOTSTRAP_TENANT: input.application.owner,
    C8Y_BOOTSTRAP_USER: input.bootstrap.name,
    C8Y_BOOTSTRAP_PASSWORD: input.bootstrap.password,
    MICROSERVICE_SUBSCRIPTION_ENABLED: "true",
    // platform.md §4.1 CONFLICT (doc default 256M vs limit 512M): the sandbox passes the limit it applies.
    MEMORY_LIMIT: input.resources.memory,
    LOG4J_FORMAT_MSG_NO_LOOKUPS: "true",
  };
  if (input.tenant) Object.assign(env, { C8Y_TENANT: input.tenant.id, C8Y_USER: input.tenant.user, C8Y_PASSWORD: input.tenant.password });
  return env;
}

/** How an instance is reached (see network-mode.ts for which one and why). */
export type NetworkPlan =
  | { mode: "isolated" }
  | { mode: "host" }
  /** `ports`: host port on 127.0.0.1 -> container port. */
  | { mode: "publish"; ports: [number, number][] };

/**
 * How the passwords get in. "launcher": a script mounted read-only reads them from a file in
 * the same mount and starts the image's own entrypoint and command with them, so neither the
 * `run` command line nor the container's config holds them. "env-file": for images without
 * /bin/sh; the command line stays clean, but `inspect` shows the values.
 */
export type SecretDelivery = { kind: "launcher"; hostDir: string; command: string[] } | { kind: "env-file"; path: string };

export interface RunSpec {
  name: string;
  labels: Record<string, string>;
  image: string;
  resources: ServiceResources;
  network: NetworkPlan;
  environment: Record<string, string>;
  secrets: SecretDelivery;
}

export function runArgs(engine: EngineName, spec: RunSpec): string[] {
  const args = ["run", "-d", "--name", spec.name];
  for (const [key, value] of Object.entries(spec.labels)) args.push("--label", `${key}=${value}`);
  // The platform's capability set (apiVersion 2, platform.md §4.1) and quotas (§4.2).
  args.push("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE");
  args.push("--memory", String(spec.resources.memoryBytes), "--cpus", String(spec.resources.cpus), "--pids-limit", String(PIDS_LIMIT));
  args.push("--restart", "on-failure");
  args.push(...networkArgs(engine, spec.network));
  for (const [key, value] of Object.entries(spec.environment)) {
    if (!isSecret(key)) args.push("-e", `${key}=${value}`);
  }
  if (spec.secrets.kind === "env-file") {
    args.push("--env-file", spec.secrets.path, spec.image);
    return args;
  }
  args.push("--mount", `type=bind,source=${spec.secrets.hostDir},target=${LAUNCH_DIR},readonly`);
  args.push("--entrypoint", "/bin/sh", spec.image, `${LAUNCH_DIR}/launch.sh`, ...spec.secrets.command);
  return args;
}

function networkArgs(engine: EngineName, plan: NetworkPlan): string[] {
  switch (plan.mode) {
    case "isolated":
      // Only a loopback inside; the sandbox's relay (relay.ts) is the one way in and out.
      return ["--network", "none"];
    case "host":
      return ["--network", "host"];
    case "publish": {
      const args = plan.ports.flatMap(([host, container]) => ["-p", `127.0.0.1:${host}:${container}`]);
      // Podman knows host.containers.internal by itself; Docker on Linux needs it spelled out.
      if (engine === "docker") args.push("--add-host", "host.docker.internal:host-gateway");
      return args;
    }
  }
}

function isSecret(key: string): boolean {
  return (SECRET_VARIABLES as readonly string[]).includes(key);
}

/** The passwords only, as the environment file holds them. */
export function secretEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([key]) => isSecret(key)));
}

/** For the launcher: `export KEY='value'` lines a POSIX shell reads back exactly. */
export function shellEnvironment(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([key, value]) => `export ${key}='${value.replaceAll("'", `'\\''`)}'\n`)
    .join("");
}

/** For `--env-file`: one KEY=value per line, read verbatim (no quoting) by docker and podman. */
export function envFileText(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([key, value]) => `${key}=${value}\n`)
    .join("");
}

/**
 * The launcher. It waits for its environment file, which the sandbox writes once the service
 * can reach it (so the service's first call to C8Y_BASEURL finds the sandbox), reads it and
 * becomes the image's own command.
 */
export const LAUNCHER_SCRIPT = `#!/bin/sh
# Written by c8y-ms sandbox: gives the service its passwords, then runs the image's command.
waited=0
while [ ! -f ${LAUNCH_DIR}/env ]; do
  if [ "$waited" -ge 600 ]; then echo "c8y-ms sandbox: no environment after 60 s; is the sandbox running?" >&2; exit 1; fi
  sleep 0.1 2>/dev/null || sleep 1
  waited=$((waited + 1))
done
. ${LAUNCH_DIR}/env
exec "$@"
`;

/** The image's entrypoint and command, which the launcher runs. */
export function imageCommandArgs(image: string): string[] {
  return ["image", "inspect", "--format", "{{json .Config.Entrypoint}}\t{{json .Config.Cmd}}", image];
}

/** ENTRYPOINT then CMD, as the engine would run them; empty when the image names neither. */
export function parseImageCommand(stdout: string): string[] {
  const [entrypoint = "null", cmd = "null"] = stdout.trim().split("\t");
  const list = (text: string) => {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  };
  return [...list(entrypoint), ...list(cmd)];
}

/** One line per container: what the monitor tracks. */
export const INSPECT_FORMAT = "{{.Id}} {{.State.Running}} {{.RestartCount}} {{.State.Pid}}";

export interface ContainerState {
  id: string;
  running: boolean;
  restarts: number;
  /** The container's first process on the host; 0 while it is not running. */
  pid: number;
}

export function parseInspectLines(stdout: string): ContainerState[] {
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", running, restarts, pid] = line.trim().split(" ");
      return { id, running: running === "true", restarts: Number(restarts) || 0, pid: Number(pid) || 0 };
    });
}

/** A failed `run` whose container could not start its first process (docker and podman exit 127). */
export const COMMAND_NOT_FOUND_STATUS = 127;
