import type { Context } from "../context.js";
import { CliError, UsageError } from "../errors.js";
import { CommandFailedError, CommandNotFoundError } from "../exec.js";

export const ENGINE_NAMES = ["docker", "podman"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** A container engine that answered, ready to be driven through `ctx.exec`. */
export interface Engine {
  name: EngineName;
  /** The executable to run. */
  command: string;
  /** The engine's own (server) version. */
  version: string;
  /**
   * `--network` for build and run. "host" where the engine has no default bridge (machines
   * whose dockerd runs with --bridge=none); undefined lets the engine use its default.
   * C8Y_MS_NETWORK overrides the detection.
   */
  network: string | undefined;
}

/** No engine installed, or installed but not running. Exit 1 with the fix. */
export class EngineNotAvailableError extends CliError {
  override readonly code = "ENGINE_UNAVAILABLE";
}

type EngineContext = Pick<Context, "exec" | "env" | "logger" | "signal">;

/**
 * Finds the engine to use: `preferred` (--engine), else C8Y_MS_ENGINE, else the first of
 * docker and podman that answers.
 * @throws {EngineNotAvailableError} when none answers
 */
export async function detectEngine(ctx: EngineContext, preferred?: string): Promise<Engine> {
  const chosen = preferred ?? (ctx.env.C8Y_MS_ENGINE || undefined);
  if (chosen !== undefined && !isEngineName(chosen)) {
    throw new UsageError(`Unknown container engine '${chosen}'.`, { hint: "Use --engine docker or --engine podman (or set C8Y_MS_ENGINE)." });
  }
  const candidates: EngineName[] = chosen ? [chosen] : [...ENGINE_NAMES];
  const problems: EngineProblem[] = [];
  for (const name of candidates) {
    const probe = await probeEngine(ctx, name);
    if ("problem" in probe) {
      problems.push(probe);
      continue;
    }
    ctx.logger.debug(`Using ${name} ${probe.version}${probe.network ? ` (network ${probe.network})` : ""}`);
    // Falling back past an installed engine is worth knowing: its images are not the other's.
    const broken = problems.filter((p) => p.installed);
    if (broken.length > 0) ctx.logger.warn(`${broken.map((p) => p.problem).join(" ")} Using ${name} instead (--engine chooses).`);
    return probe;
  }
  const text = problems.map((p) => p.problem).join(" ");
  if (!chosen) {
    throw new EngineNotAvailableError(text, {
      hint: "Install Docker (https://docs.docker.com/get-docker/) or Podman and make sure `docker info` or `podman info` works.",
    });
  }
  throw new EngineNotAvailableError(text, {
    hint: problems.some((p) => p.installed)
      ? `Start ${chosen} (e.g. \`sudo systemctl start ${chosen}\` or Docker Desktop), or choose the other engine with --engine.`
      : `Install ${chosen}, or choose the other engine with --engine.`,
  });
}

/**
 * What builds the image: an engine, or c8y-ms itself (`--engine none`, src/oci). Without a
 * choice and with no engine answering, c8y-ms builds itself and says so in one line.
 */
export async function detectBuilder(ctx: EngineContext, preferred?: string): Promise<Engine | "none"> {
  const chosen = preferred ?? (ctx.env.C8Y_MS_ENGINE || undefined);
  if (chosen === "none") return "none";
  try {
    return await detectEngine(ctx, chosen);
  } catch (error) {
    if (chosen !== undefined || !(error instanceof EngineNotAvailableError)) throw error;
    ctx.logger.warn(`No container engine answers (${error.message.replace(/\.$/, "").replace(/\. /g, "; ")}): c8y-ms builds the image itself, as with --engine none.`);
    return "none";
  }
}

interface EngineProblem {
  problem: string;
  installed: boolean;
}

function isEngineName(value: string): value is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(value);
}

/** Returns the engine, or a sentence saying why it cannot be used. */
async function probeEngine(ctx: EngineContext, name: EngineName): Promise<Engine | EngineProblem> {
  const versionArgs = name === "docker" ? ["version", "--format", "{{.Server.Version}}"] : ["info", "--format", "{{.Version.Version}}"];
  let version: string;
  try {
    version = (await ctx.exec.run(name, versionArgs, { signal: ctx.signal })).stdout.trim();
  } catch (error) {
    if (error instanceof CommandNotFoundError) return { problem: `${name} is not installed.`, installed: false };
    if (error instanceof CommandFailedError) {
      const reason = error.tail.find((line) => line.trim() !== "") ?? "it did not answer";
      return { problem: `${name} is installed but not usable: ${reason.trim().replace(/([^.!?])$/, "$1.")}`, installed: true };
    }
    throw error;
  }
  return { name, command: name, version, network: await detectNetwork(ctx, name) };
}

async function detectNetwork(ctx: EngineContext, name: EngineName): Promise<string | undefined> {
  const override = ctx.env.C8Y_MS_NETWORK;
  if (override) return override === "default" ? undefined : override;
  if (name === "podman") return undefined;
  try {
    await ctx.exec.run(name, ["network", "inspect", "bridge", "--format", "{{.Name}}"], { signal: ctx.signal });
    return undefined;
  } catch (error) {
    if (error instanceof CommandFailedError) return "host";
    throw error;
  }
}
