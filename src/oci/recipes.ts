import { createHash, type Hash } from "node:crypto";
import { cp, lstat, mkdir, readdir, readFile, readlink, stat, symlink } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import { CommandFailedError, CommandNotFoundError } from "../exec.js";
import { DockerfileError, parseDockerfile, shellWords, type Dockerfile, type Instruction } from "./dockerfile.js";
import type { ImageConfig } from "./image-config.js";
import type { IgnoreMatcher } from "./patterns.js";
import type { CopyStep, StepOverride } from "./stage.js";

/**
 * The RUN steps c8y-ms does itself, with the tools of this machine, so that the templates
 * build without an engine:
 * - the node template (recognised by its Dockerfile): the build stage's `npm ci` and
 *   `npm run build` run in a staging copy of the sources, the final stage's
 *   `npm ci --omit=dev` in another (for linux/x64 whatever this machine is);
 * - `RUN pip install --target <dir> -r <requirements>` (python): the local pip installs
 *   wheels for manylinux x86_64 into a staging directory.
 * Each becomes a COPY of the staged result to where the RUN would have left it.
 */
export type RecipeContext = Pick<Context, "exec" | "logger" | "signal" | "env">;

export interface Recipe {
  overrides: Map<number, StepOverride>;
  /** Runs what the overrides copy from, for this base image. */
  prepare(base: ImageConfig): Promise<void>;
  /** What to do about compiled code that is not x86-64 Linux. */
  nativeFix: string;
  /**
   * A digest of everything the application layer is made from, when hashing it is cheaper
   * than running the recipe: the same key gives the same layer, as Docker's build cache reuses
   * a RUN whose inputs did not change.
   */
  layerKey?: (baseId: string) => Promise<string>;
}

const GENERIC_NATIVE_FIX = "Build compiled code for linux/amd64 (in CI on Linux x86-64, or with --engine docker), or leave it out of the image.";

export interface RecipeInput {
  dockerfile: Dockerfile;
  contextDir: string;
  ignore: IgnoreMatcher;
  stagingDir: string;
  /** The shipped node template's Dockerfile, to recognise a project made from it. */
  nodeTemplate: string;
}

export async function recipeFor(input: RecipeInput, ctx: RecipeContext): Promise<Recipe> {
  if (await isNodeTemplate(input.dockerfile, input.nodeTemplate)) return nodeTemplate(input, ctx);
  const pip = pipInstalls(input);
  if (pip.size > 0) return pipRecipe(input, pip, ctx);
  return { overrides: new Map(), prepare: () => Promise.resolve(), nativeFix: GENERIC_NATIVE_FIX };
}

/** The shipped node template's Dockerfile, instruction for instruction (the base image's default may differ). */
async function isNodeTemplate(dockerfile: Dockerfile, templatePath: string): Promise<boolean> {
  const template = parseDockerfile(await readFile(templatePath, "utf8"), templatePath);
  const shape = (d: Dockerfile) =>
    JSON.stringify([d.globalArgs.map((a) => a.name), d.stages.map((s) => [s.base, s.name, s.platform, s.instructions.map((i) => [i.keyword, i.args])])]);
  return shape(dockerfile) === shape(template);
}

function nodeTemplate(input: RecipeInput, ctx: RecipeContext): Recipe {
  const final = input.dockerfile.stages.at(-1)!;
  const install = final.instructions.find((i) => i.keyword === "RUN")!;
  const copyDist = final.instructions.find((i) => i.keyword === "COPY" && i.args.startsWith("--from="))!;
  const buildDir = join(input.stagingDir, "build");
  const runDir = join(input.stagingDir, "run");
  const overrides = new Map<number, StepOverride>([
    [install.line, ({ workdir, line }) => [staged(line, runDir, "node_modules", posix.join(workdir, "node_modules"))]],
    [copyDist.line, ({ workdir, line }) => [staged(line, buildDir, "dist", posix.resolve(workdir, shellWords(copyDist.args, copyDist, input.dockerfile.path).at(-1)!))]],
  ]);
  const sources = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src"];
  return {
    overrides,
    async layerKey(baseId) {
      const hash = createHash("sha256").update(`c8y-ms node template 1\0${process.version}\0${baseId}\0${JSON.stringify(input.dockerfile.stages.map((s) => s.instructions))}\0`);
      await hashTree(hash, input.contextDir, sources, input.ignore);
      // The compiler the build uses when the project has its own install.
      hash.update(await readFile(join(input.contextDir, "node_modules", ".package-lock.json")).catch(() => Buffer.from("no install")));
      return `sha256:${hash.digest("hex")}`;
    },
    nativeFix: "Install dependencies whose compiled add-ons are published for linux-x64 (npm installs those with --os=linux --cpu=x64, as c8y-ms does), or build with --engine docker so they compile inside the image.",
    async prepare() {
      // Stage 1, as the Dockerfile's build stage: every dependency, then `npm run build`.
      await copyFromContext(input, sources, buildDir);
      const projectModules = join(input.contextDir, "node_modules");
      if (await isDirectory(projectModules)) {
        // The project's own install (what `c8y-ms init` ran) has the compiler; nothing to fetch.
        await symlink(projectModules, join(buildDir, "node_modules"), "dir");
      } else {
        await npm(ctx, buildDir, ["ci", "--no-audit", "--no-fund"], "Installing the build dependencies");
      }
      await npm(ctx, buildDir, ["run", "build"], "Building the service (npm run build)");
      // Stage 2, as the final stage: production dependencies only, for the platform's OS and CPU.
      await copyFromContext(input, ["package.json", "package-lock.json"], runDir);
      await npm(ctx, runDir, ["ci", "--omit=dev", "--no-audit", "--no-fund", "--os=linux", "--cpu=x64"], "Installing the production dependencies");
    },
  };
}

function staged(line: number, from: string, source: string, dest: string): CopyStep {
  return { line, sources: [source], dest, owner: { uid: 0, gid: 0 }, mode: undefined, from, optional: true };
}

/** Paths, modes and contents of `names` (files or trees) under `root`, sorted, less what .dockerignore leaves out. */
async function hashTree(hash: Hash, root: string, names: string[], ignore: IgnoreMatcher): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    if (ignore.ignores(rel)) return;
    const info = await lstat(join(root, rel)).catch(() => undefined);
    hash.update(`${rel}\0${info ? info.mode : "missing"}\0`);
    if (!info) return;
    if (info.isDirectory()) {
      for (const name of (await readdir(join(root, rel))).sort()) await walk(`${rel}/${name}`);
    } else if (info.isSymbolicLink()) {
      hash.update(`${await readlink(join(root, rel))}\0`);
    } else {
      hash.update(await readFile(join(root, rel)));
    }
  };
  for (const name of names) await walk(name);
}

async function copyFromContext(input: RecipeInput, names: string[], into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (const name of names) {
    if (input.ignore.ignores(name)) continue;
    await cp(join(input.contextDir, name), join(into, name), {
      recursive: true,
      filter: (source) => {
        const rel = relative(input.contextDir, source).split("\\").join("/");
        return rel === "" || !input.ignore.ignores(rel);
      },
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
}

async function npm(ctx: RecipeContext, cwd: string, args: string[], step: string): Promise<void> {
  ctx.logger.step(step);
  try {
    await ctx.exec.run("npm", args, { cwd, signal: ctx.signal, captureStdout: false });
  } catch (error) {
    throw toolError(error, "npm", `npm ${args.join(" ")}`, "Fix what npm reports above (run it yourself in the project to see all of it), or build with --engine docker.");
  }
}

interface PipInstall {
  instruction: Instruction;
  target: string;
  requirements: string;
}

/** `RUN [python3 -m] pip[3] install [--no-cache-dir] [--no-deps] --target <dir> -r <file>` lines of the final stage. */
function pipInstalls(input: RecipeInput): Map<number, PipInstall> {
  const found = new Map<number, PipInstall>();
  for (const instruction of input.dockerfile.stages.at(-1)!.instructions) {
    if (instruction.keyword !== "RUN" || !/\bpip3?\b.*\binstall\b/.test(instruction.args)) continue;
    const words = shellWords(instruction.args, instruction, input.dockerfile.path);
    const start = words[0] === "pip" || words[0] === "pip3" ? 1 : /^python3?(\.\d+)?$/.test(words[0] ?? "") && words[1] === "-m" && words[2] === "pip" ? 3 : -1;
    if (start < 0 || words[start] !== "install") continue;
    let target: string | undefined;
    let requirements: string | undefined;
    const rest = words.slice(start + 1);
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (word === "--target" || word === "-t") target = rest[++i];
      else if (word.startsWith("--target=")) target = word.slice("--target=".length);
      else if (word === "-r" || word === "--requirement") requirements = rest[++i];
      else if (word.startsWith("--requirement=")) requirements = word.slice("--requirement=".length);
      else if (word === "--no-cache-dir" || word === "--no-deps" || word === "--no-compile" || word === "--disable-pip-version-check" || word === "-q" || word === "--quiet") continue;
      else {
        throw new DockerfileError(`${input.dockerfile.path}:${instruction.line}: RUN pip install ${word} is not something c8y-ms can do without an engine.`, { hint: PIP_FORM });
      }
    }
    if (!target || !requirements) throw new DockerfileError(`${input.dockerfile.path}:${instruction.line}: RUN pip install without ${target ? "-r <requirements file>" : "--target <dir>"} cannot be done without an engine.`, { hint: PIP_FORM });
    found.set(instruction.line, { instruction, target, requirements });
  }
  return found;
}

const PIP_FORM = "Without an engine c8y-ms runs one form of pip: RUN pip install --no-cache-dir --target /app/packages -r requirements.txt (with ENV PYTHONPATH=/app/packages), installing wheels for manylinux x86_64. Build anything else with --engine docker.";

function pipRecipe(input: RecipeInput, installs: Map<number, PipInstall>, ctx: RecipeContext): Recipe {
  const overrides = new Map<number, StepOverride>();
  const dirs = new Map<number, string>();
  for (const [line, install] of installs) {
    const dir = join(input.stagingDir, `pip-${line}`);
    dirs.set(line, dir);
    overrides.set(line, ({ workdir }) => [staged(line, dir, ".", `${posix.resolve(workdir, install.target)}/`)]);
  }
  return {
    overrides,
    nativeFix: "Use wheels built for manylinux x86_64 (or pure-Python ones, py3-none-any), or build with --engine docker so pip runs inside the image.",
    async prepare(base) {
      const pythonVersion = pythonVersionOf(base);
      for (const [line, install] of installs) {
        const requirements = join(input.contextDir, install.requirements);
        if (!(await isFile(requirements))) {
          throw new DockerfileError(`${input.dockerfile.path}:${line}: ${install.requirements} is not in the build context.`, { hint: "pip reads the requirements file from the build context, as COPY would." });
        }
        const args = ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-compile", "--target", dirs.get(line)!, "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--implementation", "cp"];
        if (pythonVersion) args.push("--python-version", pythonVersion);
        args.push("-r", requirements);
        ctx.logger.step(`Installing ${install.requirements} for linux/amd64 (pip)`);
        try {
          await ctx.exec.run("python3", args, { cwd: input.contextDir, signal: ctx.signal, captureStdout: false });
        } catch (error) {
          const unsupported = error instanceof CommandFailedError ? error.tail.filter((l) => /is not a supported wheel on this platform|No matching distribution found|Could not find a version/.test(l)) : [];
          if (unsupported.length > 0) {
            throw new CliError(`pip found no linux/amd64 wheel for ${install.requirements}:\n  ${unsupported.map((l) => l.replace(/^ERROR:\s*/, "")).join("\n  ")}`, {
              hint: "Use wheels built for manylinux x86_64 or pure-Python ones (py3-none-any); a wheel for macOS, Windows or ARM does not run on the platform. Or build with --engine docker.",
            });
          }
          throw toolError(error, "python3", "pip install", "Fix what pip reports above, or build with --engine docker.");
        }
      }
    },
  };
}

/** major.minor from PYTHON_VERSION in the base image's environment (the official images set it). */
function pythonVersionOf(config: ImageConfig): string | undefined {
  const value = config.config?.Env?.find((e) => e.startsWith("PYTHON_VERSION="))?.split("=")[1];
  const match = /^(\d+)\.(\d+)/.exec(value ?? "");
  return match ? `${match[1]}.${match[2]}` : undefined;
}

function toolError(error: unknown, tool: string, what: string, fix: string): unknown {
  if (error instanceof CommandNotFoundError) {
    return new CliError(`${tool} is not on PATH; --engine none runs ${what} with this machine's ${tool}.`, { hint: `Install ${tool === "npm" ? "Node.js (with npm)" : "Python 3 (with pip)"}, or build with --engine docker.` });
  }
  if (!(error instanceof CommandFailedError)) return error;
  const tail = error.tail.filter((l) => l.trim() !== "").slice(-12);
  return new CliError(`${what} failed (exit ${error.status ?? "?"}).`, { hint: `${tail.length ? `Last lines:\n${tail.map((l) => `  ${l}`).join("\n")}\n` : ""}${fix}`, cause: error });
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
