import type { Exec } from "../exec.js";
import { CommandFailedError, CommandNotFoundError } from "../exec.js";
import { CliError } from "../errors.js";
import type { Engine } from "../image/engine.js";

/**
 * How services are reached, from the safest down:
 * - "isolated": each container has a network namespace of its own with only a loopback
 *   (`--network none`); the sandbox's relay inside it (relay.ts) is the one way in, from the
 *   gateway, and the one way out, to the sandbox. The service listens on port 80 as on the
 *   platform (platform.md §4.1). Needs Linux, a local engine and the rights to enter a
 *   container's namespace (root, nsenter).
 * - "publish": port 80 published on 127.0.0.1 (Docker Desktop, Podman machines): any program
 *   on this machine can call a service without credentials.
 * - "host": the host network, a free SERVER_PORT each (the service binds it on every
 *   interface): anyone who reaches this machine can call a service without credentials.
 */
export type NetworkMode = "isolated" | "host" | "publish";
export const NETWORK_CHOICES = ["auto", "isolated", "host", "publish"] as const;
export type NetworkChoice = (typeof NETWORK_CHOICES)[number];

/** What decides whether the sandbox can isolate services. */
export interface IsolationAbility {
  platform: NodeJS.Platform;
  /** The sandbox runs as root (entering another process's network namespace needs CAP_SYS_ADMIN). */
  root: boolean;
  nsenter: boolean;
  /** The engine's containers live on this machine's kernel, owned by root (not rootless, not in a VM). */
  localRootEngine: boolean;
  /** The engine's `--network` (engine.ts): "host" where it has no bridge. */
  engineNetwork: string | undefined;
}

export interface NetworkDecision {
  mode: NetworkMode;
  /** One line for the user when services are less protected than on the platform. */
  warning?: string;
}

/** @throws {CliError} when isolation is asked for and cannot be had */
export function chooseNetwork(choice: NetworkChoice, ability: IsolationAbility): NetworkDecision {
  const missing = isolationMissing(ability);
  if (choice === "isolated" || (choice === "auto" && missing === undefined)) {
    if (missing !== undefined) {
      throw new CliError(`The sandbox cannot isolate services here: that needs ${missing}.`, {
        hint: "Run the sandbox as root on Linux with a local engine, or choose --network host or --network publish (services then answer without credentials on this machine).",
      });
    }
    return { mode: "isolated" };
  }
  const mode = choice === "auto" ? (ability.platform === "linux" || ability.engineNetwork === "host" ? "host" : "publish") : choice;
  const why = missing === undefined ? "" : ` (isolating them needs ${missing})`;
  const warning =
    mode === "host"
      ? `Services run on the host network: each listens on its own port on every interface, where anyone who reaches this machine can call it without credentials${why}.`
      : `Services publish port 80 on 127.0.0.1: any program on this machine can call them without credentials${why}.`;
  return { mode, warning };
}

/** What isolation needs and this machine lacks, worded to follow "isolation needs". */
function isolationMissing(ability: IsolationAbility): string | undefined {
  if (ability.platform !== "linux") return "Linux network namespaces";
  if (!ability.localRootEngine) return "a rootful engine on this machine, not a rootless one or one in a VM";
  if (!ability.root) return "the sandbox to run as root";
  if (!ability.nsenter) return "nsenter (util-linux) on PATH";
  return undefined;
}

/** Finds out what chooseNetwork needs to know, asking the engine and PATH. */
export async function probeIsolation(exec: Exec, engine: Engine, signal: AbortSignal): Promise<IsolationAbility> {
  const ask = async (command: string, args: string[]): Promise<string | undefined> => {
    try {
      return (await exec.run(command, args, { signal })).stdout.trim();
    } catch (error) {
      if (error instanceof CommandFailedError || error instanceof CommandNotFoundError) return undefined;
      throw error;
    }
  };
  const platform = process.platform;
  const nsenter = platform === "linux" && (await ask("nsenter", ["--version"])) !== undefined;
  const info =
    engine.name === "docker"
      ? await ask(engine.command, ["info", "--format", "{{.OperatingSystem}}|{{json .SecurityOptions}}"])
      : await ask(engine.command, ["info", "--format", "{{.Host.Security.Rootless}}"]);
  const localRootEngine = info !== undefined && (engine.name === "docker" ? !/Docker Desktop|rootless/i.test(info) : info === "false");
  return { platform, root: process.getuid?.() === 0, nsenter, localRootEngine, engineNetwork: engine.network };
}
