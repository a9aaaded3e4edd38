import { posix } from "node:path";
import { DockerfileError, execForm, parseArg, shellWords, splitFlag, substitute, type Dockerfile, type Instruction } from "./dockerfile.js";
import type { Owner } from "./layer.js";
import type { ContainerConfig } from "./image-config.js";

/**
 * The final stage of a Dockerfile as c8y-ms builds it without an engine: the base image it
 * starts from (build args applied) and what each instruction does to the image's config and
 * to the application layer. Pure: no files are read here.
 */
const SUPPORTED_TEXT = "FROM, WORKDIR, COPY, ENV, EXPOSE, USER, LABEL, CMD and ENTRYPOINT (and ARG)";

export interface FinalStage {
  /** The base image reference, build args substituted. */
  base: string;
  /** The final stage's instructions, with those of the earlier stages it builds on first. */
  instructions: Instruction[];
  /** Build args given on the command line (NAME -> value). */
  buildArgs: Map<string, string>;
  /** Global ARG values (defaults overridden by build args), for the stage's own ARG lines. */
  globalArgs: Map<string, string>;
}

export function finalStage(dockerfile: Dockerfile, buildArgs: readonly string[]): FinalStage {
  const given = new Map<string, string>();
  for (const arg of buildArgs) {
    const equals = arg.indexOf("=");
    // `--build-arg NAME` alone takes the value from the environment in Docker; c8y-ms needs it spelled out.
    if (equals > 0) given.set(arg.slice(0, equals), arg.slice(equals + 1));
  }
  const globals = new Map<string, string>();
  for (const { name, value } of dockerfile.globalArgs) {
    const chosen = given.get(name) ?? (value === undefined ? undefined : substitute(value, globals));
    if (chosen !== undefined) globals.set(name, chosen);
  }
  const chain: Instruction[][] = [];
  let stage = dockerfile.stages.at(-1)!;
  for (let depth = 0; ; depth++) {
    chain.unshift(stage.instructions);
    const base = substitute(stage.base, globals);
    const earlier = dockerfile.stages.slice(0, dockerfile.stages.indexOf(stage)).reverse().find((s) => s.name === base.toLowerCase());
    if (!earlier || depth > dockerfile.stages.length) {
      if (base === "" || base.toLowerCase() === "scratch") {
        throw new DockerfileError(`${dockerfile.path}:${stage.from.line}: FROM ${stage.base} starts from ${base === "" ? "an empty name (is a build arg missing?)" : "scratch"}.`, {
          hint: base === "" ? "Pass the base image: --build-arg BASE_IMAGE=<image>." : "--engine none lays the application onto a base image; start from one (a node or python image).",
        });
      }
      if (stage.platform && substitute(stage.platform, globals) !== "linux/amd64") {
        throw new DockerfileError(`${dockerfile.path}:${stage.from.line}: FROM --platform=${stage.platform}: Cumulocity runs only linux/amd64 images.`, { hint: "Remove --platform; c8y-ms builds for linux/amd64." });
      }
      return { base, instructions: chain.flat(), buildArgs: given, globalArgs: globals };
    }
    stage = earlier;
  }
}

export interface CopyStep {
  line: number;
  /** Sources as written, relative to the build context (or to a recipe's staging directory). */
  sources: string[];
  /** Absolute destination in the image; a trailing slash means "into this directory". */
  dest: string;
  owner: Owner;
  /** --chmod, when given. */
  mode: number | undefined;
  /** Set by a recipe: sources are read from here, not from the build context, and not filtered. */
  from?: string;
  /** Set by a recipe whose tool may leave nothing behind (npm ci without dependencies). */
  optional?: boolean;
}

/** A recipe's replacement for an instruction c8y-ms cannot run itself (the node template's RUN npm ci). */
export type StepOverride = (state: { workdir: string; line: number }) => CopyStep[];

export interface AppliedStage {
  config: ContainerConfig;
  copies: CopyStep[];
  /** The directories WORKDIR makes (created in the layer, as Docker does). */
  workdirs: string[];
  /** One line per instruction, for the image's history. */
  history: string[];
}

/**
 * Runs the instructions against the base image's config: ENV, WORKDIR, USER, LABEL, EXPOSE,
 * CMD and ENTRYPOINT change it; COPY becomes a step for the layer. Anything else (or a COPY
 * flag c8y-ms cannot honour) stops with the line that asks for it.
 */
export function applyStage(stage: FinalStage, base: ContainerConfig, path: string, overrides: ReadonlyMap<number, StepOverride> = new Map()): AppliedStage {
  const config: ContainerConfig = structuredClone(base);
  const env = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const equals = entry.indexOf("=");
    if (equals > 0) env.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  const args = new Map<string, string>();
  // ENV wins over ARG of the same name, as in Docker.
  const vars = () => new Map([...args, ...env]);
  const copies: CopyStep[] = [];
  const workdirs: string[] = [];
  const history: string[] = [];
  let cmdSet = false;

  for (const instruction of stage.instructions) {
    const { keyword, line } = instruction;
    const where = `${path}:${line}`;
    const override = overrides.get(line);
    if (override) {
      copies.push(...override({ workdir: config.WorkingDir || "/", line }));
      history.push(`${keyword} ${instruction.args}`);
      continue;
    }
    const text = keyword === "CMD" || keyword === "ENTRYPOINT" || keyword === "ARG" ? instruction.args : substitute(instruction.args, vars());
    switch (keyword) {
      case "ARG":
        for (const { name, value } of parseArg(instruction, path)) {
          const chosen = stage.buildArgs.get(name) ?? (value === undefined ? stage.globalArgs.get(name) : substitute(value, vars()));
          if (chosen !== undefined) args.set(name, chosen);
        }
        break;
      case "ENV":
        for (const [name, value] of envPairs(instruction, text, path)) {
          env.set(name, value);
          setEnv(config, name, value);
        }
        break;
      case "WORKDIR": {
        const dir = posix.resolve(config.WorkingDir || "/", text);
        config.WorkingDir = dir;
        workdirs.push(dir);
        break;
      }
      case "USER":
        if (!text) throw new DockerfileError(`${where}: USER needs a user.`, { hint: "Write USER <name or uid>[:<group or gid>]." });
        config.User = text;
        break;
      case "LABEL":
        config.Labels = { ...config.Labels, ...Object.fromEntries(labelPairs(instruction, text, path)) };
        break;
      case "EXPOSE":
        config.ExposedPorts = { ...config.ExposedPorts };
        for (const port of text.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(\/(tcp|udp|sctp))?$/i.test(port)) throw new DockerfileError(`${where}: EXPOSE ${port} is not a port.`, { hint: "Write EXPOSE 80 (or 80/tcp)." });
          config.ExposedPorts[port.includes("/") ? port.toLowerCase() : `${port}/tcp`] = {};
        }
        break;
      case "CMD":
        config.Cmd = command(text);
        cmdSet = true;
        break;
      case "ENTRYPOINT":
        config.Entrypoint = command(text);
        // "If CMD is defined from the base image, setting ENTRYPOINT will reset CMD to an empty value."
        if (!cmdSet) config.Cmd = null;
        break;
      case "COPY":
        copies.push(copyStep(instruction, text, config.WorkingDir || "/", path));
        break;
      default:
        throw unsupported(instruction, path);
    }
    history.push(`${keyword} ${text}`);
  }
  return { config, copies, workdirs, history };
}

function unsupported(instruction: Instruction, path: string): DockerfileError {
  const { keyword, line } = instruction;
  const why: Record<string, string> = {
    RUN: "RUN needs a container to run in",
    ADD: "ADD fetches URLs and unpacks archives; use COPY for files of the project",
    HEALTHCHECK: "the platform checks health through the manifest's livenessProbe, not HEALTHCHECK",
  };
  return new DockerfileError(`${path}:${line}: ${keyword} is not supported without a container engine (${why[keyword] ?? `only ${SUPPORTED_TEXT} are`}).`, {
    hint: `--engine none builds the node and python templates and Dockerfiles whose final stage uses only ${SUPPORTED_TEXT}. Build this one with --engine docker or --engine podman, or do the step before building and COPY its result.`,
  });
}

function copyStep(instruction: Instruction, text: string, workdir: string, path: string): CopyStep {
  const where = `${path}:${instruction.line}`;
  const exec = execForm(text);
  const words = exec ?? shellWords(text, instruction, path);
  let owner = { uid: 0, gid: 0 };
  let mode: number | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    const [key, value = ""] = splitFlag(flag);
    if (key === "chown") owner = parseOwner(value, where);
    else if (key === "chmod") {
      if (!/^[0-7]{3,4}$/.test(value)) throw new DockerfileError(`${where}: COPY --chmod=${value} is not an octal mode.`, { hint: "Write --chmod=644 (octal); symbolic modes need an engine." });
      mode = parseInt(value, 8);
    } else if (key === "link") {
      // --link changes how BuildKit caches the layer, not what is in it.
    } else if (key === "from") {
      throw new DockerfileError(`${where}: COPY --from=${value} needs that stage built, which takes a container engine.`, { hint: "Build the output before building the image and COPY it from the project, or build with --engine docker." });
    } else {
      throw new DockerfileError(`${where}: COPY ${flag} is not supported without a container engine.`, { hint: "COPY takes --chown=<uid>:<gid>, --chmod=<octal> and --link here." });
    }
  }
  if (words.length < 2) throw new DockerfileError(`${where}: COPY needs a source and a destination.`, { hint: "Write COPY <source>... <destination>." });
  const destination = words.pop()!;
  const dest = posix.resolve(workdir, destination) + (destination.endsWith("/") || destination === "." ? "/" : "");
  return { line: instruction.line, sources: words, dest: dest === "//" ? "/" : dest, owner, mode };
}

function parseOwner(value: string, where: string): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) {
    throw new DockerfileError(`${where}: COPY --chown=${value} names a user; without an engine c8y-ms does not read the base image's /etc/passwd.`, { hint: "Write numeric ids: --chown=1000:1000." });
  }
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

function envPairs(instruction: Instruction, text: string, path: string): [string, string][] {
  const words = shellWords(text, instruction, path);
  if (words.length > 0 && !words[0]!.includes("=")) {
    // The legacy form: ENV NAME value with spaces.
    const [, name = "", value = ""] = /^(\S+)\s+(.*)$/s.exec(text.trim()) ?? [];
    if (!name) throw new DockerfileError(`${path}:${instruction.line}: ENV ${text} has no value.`, { hint: "Write ENV NAME=value." });
    return [[name, shellWords(value, instruction, path).join(" ")]];
  }
  return words.map((word) => {
    const equals = word.indexOf("=");
    if (equals <= 0) throw new DockerfileError(`${path}:${instruction.line}: ENV ${word} is not NAME=value.`, { hint: "Write ENV NAME=value (quote values with spaces)." });
    return [word.slice(0, equals), word.slice(equals + 1)];
  });
}

function labelPairs(instruction: Instruction, text: string, path: string): [string, string][] {
  return shellWords(text, instruction, path).map((word) => {
    const equals = word.indexOf("=");
    if (equals <= 0) throw new DockerfileError(`${path}:${instruction.line}: LABEL ${word} is not key=value.`, { hint: 'Write LABEL key="value".' });
    return [word.slice(0, equals), word.slice(equals + 1)];
  });
}

function setEnv(config: ContainerConfig, name: string, value: string): void {
  const list = [...(config.Env ?? [])];
  const at = list.findIndex((e) => e.startsWith(`${name}=`));
  if (at >= 0) list[at] = `${name}=${value}`;
  else list.push(`${name}=${value}`);
  config.Env = list;
}

/** Exec form as written; shell form runs under /bin/sh -c, Docker's default SHELL. */
function command(text: string): string[] {
  return execForm(text) ?? ["/bin/sh", "-c", text];
}
