import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import type { Context } from "../context.js";
import { CommandFailedError, CommandNotFoundError, shellQuote } from "../exec.js";
import { findManifestFile, loadManifest } from "../manifest/load.js";
import type { Answers } from "../scaffold/answers.js";
import type { Template } from "../scaffold/catalog.js";
import { CreatedPaths, scaffold } from "../scaffold/scaffold.js";

/** What happened to an optional step: `failed` steps are warnings, the project is complete. */
export type StepStatus = "done" | "skipped" | "failed";

export interface ProjectPlan {
  template: Template;
  targetDir: string;
  /** How messages name the directory (relative to the working directory). */
  shown: string;
  answers: Answers;
  /** false with --no-install, --no-git. */
  install: boolean;
  git: boolean;
}

export interface CreatedProject {
  files: string[];
  /** Template files not written because they already existed (only with --force). */
  skipped: string[];
  install: StepStatus;
  git: StepStatus;
  /** The commands to run next, in order. */
  nextSteps: string[];
}

/**
 * 1. the template's files, 2. its dependencies installed, 3. a git repository, 4. the commands
 * to run next. A failure or Ctrl-C before the end removes everything this created; a failed
 * install or git step only warns, because the project itself is complete.
 */
export async function createProject(plan: ProjectPlan, ctx: Pick<Context, "cwd" | "env" | "exec" | "logger" | "progress" | "signal">): Promise<CreatedProject> {
  const { template, targetDir, shown, answers } = plan;
  const created = new CreatedPaths();
  try {
    // 1. The files.
    ctx.logger.step(`Scaffolding ${answers.name} from the ${template.id} template in ${shown}`);
    const { files, skipped } = await scaffold({ template, targetDir, answers, created, signal: ctx.signal });
    for (const path of skipped) ctx.logger.warn(keptFileWarning(path));
    ctx.logger.success(`Created ${files.length} files in ${shown}`);

    // 2, 3. Optional steps.
    const install = await installDependencies(template, targetDir, plan.install, created, ctx);
    const git = await initGit(targetDir, plan.git, created, ctx);

    // 4. What to run next.
    const nextSteps = nextCommands(template, relative(ctx.cwd, targetDir), install !== "done", await packedZip(targetDir), cliInvocation(ctx.env));
    return { files, skipped, install, git, nextSteps };
  } catch (error) {
    await created.removeAll();
    throw error;
  }
}

type StepContext = Pick<Context, "exec" | "logger" | "progress" | "signal">;

async function installDependencies(template: Template, targetDir: string, wanted: boolean, created: CreatedPaths, ctx: StepContext): Promise<StepStatus> {
  if (!template.install) return "skipped";
  const [command, ...args] = template.install as [string, ...string[]];
  const shown = template.install.join(" ");
  if (!wanted) return "skipped";
  await trackNew(resolve(targetDir, "node_modules"), created);
  const progress = ctx.progress(`Installing dependencies (${shown})`);
  try {
    await ctx.exec.run(command, args, { cwd: targetDir, signal: ctx.signal });
    progress.done();
    return "done";
  } catch (error) {
    progress.fail();
    if (error instanceof CommandNotFoundError || error instanceof CommandFailedError) {
      ctx.logger.warn(`${shown} failed: ${stepFailure(error)} The project is complete; run \`${shown}\` in it yourself.`);
      return "failed";
    }
    throw error;
  }
}

async function initGit(targetDir: string, wanted: boolean, created: CreatedPaths, ctx: StepContext): Promise<StepStatus> {
  if (!wanted) return "skipped";
  const git = (args: string[]) => ctx.exec.run("git", args, { cwd: targetDir, signal: ctx.signal });
  try {
    // Inside an existing repository (a monorepo, a fresh clone) the files simply join it.
    const inside = await git(["rev-parse", "--is-inside-work-tree"]).then(
      () => true,
      (error: unknown) => {
        if (error instanceof CommandFailedError) return false;
        throw error;
      },
    );
    if (inside) {
      ctx.logger.info("The project is inside a git repository already: no new one made.");
      return "skipped";
    }
    await trackNew(resolve(targetDir, ".git"), created);
    await git(["init", "--quiet"]);
    await git(["add", "--all"]);
  } catch (error) {
    if (!(error instanceof CommandNotFoundError || error instanceof CommandFailedError)) throw error;
    ctx.logger.warn(`No git repository made: ${stepFailure(error)}`);
    return "failed";
  }
  try {
    await git(["commit", "--quiet", "--message", "Initial commit from c8y-ms init"]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    // Typically no user.name/user.email configured: the repository is there, the files are staged.
    ctx.logger.warn(`Made a git repository, but the first commit failed: ${stepFailure(error)} The files are staged; commit them yourself.`);
    return "failed";
  }
  ctx.logger.success("Made a git repository with a first commit");
  return "done";
}

function keptFileWarning(path: string): string {
  if (path === "package-lock.json") return "Kept the existing package.json, so the template's package-lock.json was not written either: run npm install to make one that matches.";
  const kept = `Kept the existing ${path}; the template's version was not written.`;
  return path === "cumulocity.json" ? `${kept} Its name, isolation, roles and provider stay as they are there.` : kept;
}

/** A path a step is about to create is taken back with the rest if init fails later. */
async function trackNew(path: string, created: CreatedPaths): Promise<void> {
  if (!(await stat(path).then(() => true, () => false))) created.add(path);
}

function stepFailure(error: CommandNotFoundError | CommandFailedError): string {
  if (error instanceof CommandNotFoundError) return `${error.command} is not installed (not on PATH).`;
  const last = error.tail.filter((line) => line.trim()).at(-1);
  return `${error.message}${last ? ` ${last.trim()}` : ""}`;
}

/** `npx c8y-ms init` leaves nothing on PATH: the next steps then go through npx too. */
function cliInvocation(env: Context["env"]): string {
  return env.npm_command === "exec" ? "npx c8y-ms" : "c8y-ms";
}

/**
 * `relativeDir` is "" when the project is the working directory. Deploy takes the zip pack
 * wrote: given the directory it would build again, without pack's build arguments.
 */
function nextCommands(template: Template, relativeDir: string, needsInstall: boolean, zip: string | undefined, cli: string): string[] {
  const commands: string[] = [];
  if (relativeDir !== "") commands.push(`cd ${shellQuote(relativeDir)}`);
  if (needsInstall && template.install) commands.push(template.install.join(" "));
  const steps = ["validate", `pack --build-arg BASE_IMAGE=${template.baseImage}`, "sandbox", zip ? `deploy ${zip} --wait` : "deploy --wait"];
  commands.push(...steps.map((step) => `${cli} ${step}`));
  return commands;
}

/** Where `c8y-ms pack` writes the zip (spec/cli.md), from the project's manifest: init's, or one --force kept. */
async function packedZip(projectDir: string): Promise<string | undefined> {
  const file = await findManifestFile(projectDir);
  const manifest = file ? (await loadManifest(file).catch(() => undefined))?.manifest : undefined;
  return manifest?.name ? `dist/${manifest.name}-${manifest.version}.zip` : undefined;
}
