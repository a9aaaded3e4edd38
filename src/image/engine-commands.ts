import type { Context } from "../context.js";
import { CancelledError, CliError } from "../errors.js";
import { CommandFailedError, CommandNotFoundError } from "../exec.js";
import { EngineNotAvailableError, type Engine, type EngineName } from "./engine.js";

/**
 * The container engine's command lines, as pure builders (unit-tested) beside thin runners
 * that run them through ctx.exec: output streams to --verbose, and a failure shows its last
 * lines.
 */
export const TARGET_PLATFORM = "linux/amd64";

export interface BuildSpec {
  contextDir: string;
  dockerfile: string;
  tag: string;
  buildArgs: readonly string[];
  noCache: boolean;
  /** `--network` for RUN steps (host where the engine has no bridge). */
  network: string | undefined;
  /**
   * Docker with BuildKit (buildx) adds provenance and SBOM attestations, which turn a save
   * into a multi-platform index; the legacy builder knows neither the feature nor the flags.
   */
  buildKit: boolean;
}

export function buildArgs(engine: EngineName, spec: BuildSpec): string[] {
  const args = ["build", "--platform", TARGET_PLATFORM];
  if (engine === "podman") args.push("--format", "docker");
  // --load: a buildx builder with the docker-container driver keeps the image to itself otherwise.
  if (engine === "docker" && spec.buildKit) args.push("--provenance=false", "--sbom=false", "--load");
  // The legacy builder keeps the container of a failed step unless told otherwise.
  if (engine === "docker" && !spec.buildKit) args.push("--force-rm");
  args.push("--tag", spec.tag);
  for (const arg of spec.buildArgs) args.push("--build-arg", arg);
  if (spec.noCache) args.push("--no-cache");
  if (spec.network) args.push("--network", spec.network);
  args.push("--file", spec.dockerfile, spec.contextDir);
  return args;
}

export function saveArgs(engine: EngineName, ref: string, output: string): string[] {
  return engine === "podman" ? ["save", "--format", "docker-archive", "--output", output, ref] : ["save", "--output", output, ref];
}

/** One line: id, os, architecture, size (the same template works for docker and podman). */
export function inspectArgs(ref: string): string[] {
  return ["image", "inspect", "--format", "{{.Id}} {{.Os}} {{.Architecture}} {{.Size}}", ref];
}

export interface LocalImage {
  /** sha256:<hex>, as docker prints it (podman prints bare hex). */
  id: string;
  os: string;
  architecture: string;
  /** Uncompressed size, roughly what `save` writes. */
  size: number;
}

export function parseInspect(stdout: string): LocalImage | undefined {
  const [id, os, architecture, size] = stdout.trim().split(/\s+/);
  if (!id || !os || !architecture) return undefined;
  return { id: id.includes(":") ? id : `sha256:${id}`, os, architecture, size: Number(size) || 0 };
}

/** The engine ran and failed: its own last lines say why. Exit 1. */
export class EngineCommandError extends CliError {
  override readonly code = "ENGINE_FAILED";
}

type EngineContext = Pick<Context, "exec" | "logger" | "signal" | "env">;

/**
 * Whether `docker build` is BuildKit: only then does it take the attestation flags. An
 * installed buildx alone does not say so (Docker before 23, or DOCKER_BUILDKIT=0, still run
 * the legacy builder), but the flags that `docker build --help` lists do.
 */
export async function usesBuildKit(ctx: EngineContext, engine: Engine): Promise<boolean> {
  if (engine.name !== "docker") return false;
  try {
    return (await ctx.exec.run(engine.command, ["build", "--help"], { signal: ctx.signal })).stdout.includes("--provenance");
  } catch (error) {
    if (error instanceof CommandFailedError) return false;
    throw error;
  }
}

export async function buildImage(ctx: EngineContext, engine: Engine, spec: BuildSpec): Promise<void> {
  await runEngine(ctx, engine, buildArgs(engine.name, spec), `Building ${spec.tag} failed`, "Fix the Dockerfile step shown above, or run with --verbose for the whole build output.");
}

export async function saveImage(ctx: EngineContext, engine: Engine, ref: string, output: string): Promise<void> {
  await runEngine(ctx, engine, saveArgs(engine.name, ref, output), `Saving ${ref} failed`, "Check the free space in the temporary directory ($TMPDIR).");
}

/** The image's id and platform, or undefined when the engine has no such image. */
export async function inspectImage(ctx: EngineContext, engine: Engine, ref: string): Promise<LocalImage | undefined> {
  try {
    return parseInspect((await ctx.exec.run(engine.command, inspectArgs(ref), { signal: ctx.signal })).stdout);
  } catch (error) {
    if (error instanceof CommandFailedError && error.tail.some((l) => /no such (image|object)|image not known|not found/i.test(l))) return undefined;
    throw engineError(error, engine, `Inspecting ${ref} failed`, "Check that the engine is running (`" + engine.command + " info`).");
  }
}

async function runEngine(ctx: EngineContext, engine: Engine, args: string[], failure: string, fix: string): Promise<void> {
  try {
    await ctx.exec.run(engine.command, args, { signal: ctx.signal, captureStdout: false });
  } catch (error) {
    throw engineError(error, engine, failure, fix);
  }
}

function engineError(error: unknown, engine: Engine, failure: string, fix: string): unknown {
  if (error instanceof CancelledError) return error;
  if (error instanceof CommandNotFoundError) {
    return new EngineNotAvailableError(`${engine.command} is no longer on PATH.`, { hint: "Install Docker or Podman, or choose the other engine with --engine." });
  }
  if (!(error instanceof CommandFailedError)) return error;
  const tail = error.tail.filter((l) => l.trim() !== "").slice(-12);
  const shown = tail.length ? `Last lines from ${engine.name}:\n${tail.map((l) => `  ${l}`).join("\n")}\n` : "";
  return new EngineCommandError(`${failure} (${engine.name} exited with ${error.status ?? "an error"}).`, { hint: `${shown}${fix}`, cause: error });
}
