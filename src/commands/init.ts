import { readdir, stat } from "node:fs/promises";
import { basename, relative, resolve } from "node:path";
import type { Context } from "../context.js";
import type { CommandOptions } from "../options.js";
import { CancelledError, UsageError } from "../errors.js";
import { CommandFailedError, CommandNotFoundError, shellQuote } from "../exec.js";
import type { CommandResult } from "../result.js";
import { findManifestFile, loadManifest } from "../manifest/load.js";
import { DEFAULT_PROVIDER, ISOLATIONS, nameProblem, parseRoles, type Answers, type Isolation } from "../scaffold/answers.js";
import { findTemplate, listTemplates, type Template } from "../scaffold/catalog.js";
import { CreatedPaths, scaffold } from "../scaffold/scaffold.js";
import { formatTable } from "../ui/format.js";

type InitOptions = CommandOptions["init"];

/** What happened to an optional step: `failed` steps are warnings, the project is complete. */
type StepStatus = "done" | "skipped" | "failed";

export interface InitResult {
  dir: string;
  name: string;
  template: string;
  isolation: Isolation;
  files: string[];
  /** Template files not written because they already existed (only with --force). */
  skipped: string[];
  install: StepStatus;
  git: StepStatus;
  nextSteps: string[];
}

/**
 * `c8y-ms init [dir]`: asks for what the flags did not say, writes the template, then installs
 * dependencies and makes a git repository. A failure or Ctrl-C before the end removes everything
 * init created; a failed install or git step only warns, because the project itself is complete.
 */
export async function init(dir: string | undefined, options: InitOptions, ctx: Context): Promise<CommandResult> {
  const templates = await listTemplates();
  if (options.listTemplates) return templateList(templates);

  // 1. Answers: flags first; prompts for the rest, which use defaults or fail naming the flag without a terminal.
  const { answers, template } = await collectAnswers(dir, options, templates, ctx);
  const targetDir = resolve(ctx.cwd, dir ?? answers.name);
  const shown = displayPath(ctx.cwd, targetDir);

  // 2. The directory: new, empty, or (with --force) shared with files that are kept.
  await prepareDirectory(targetDir, shown, Boolean(options.force), ctx);

  const created = new CreatedPaths();
  try {
    // 3. The files.
    ctx.logger.step(`Scaffolding ${answers.name} from the ${template.id} template in ${shown}`);
    const { files, skipped } = await scaffold({ template, targetDir, answers, created, signal: ctx.signal });
    for (const path of skipped) ctx.logger.warn(keptFileWarning(path));
    ctx.logger.success(`Created ${files.length} files in ${shown}`);

    // 4. Optional steps.
    const install = await installDependencies(template, targetDir, options.install, created, ctx);
    const git = await initGit(targetDir, options.git, created, ctx);

    // 5. What to run next.
    const nextSteps = nextCommands(template, relative(ctx.cwd, targetDir), install !== "done", await packedZip(targetDir), cliInvocation(ctx.env));
    ctx.logger.info("");
    ctx.logger.info("Next steps:");
    for (const line of nextStepLines(nextSteps)) ctx.logger.info(`  ${line}`);
    const data: InitResult = { dir: targetDir, name: answers.name, template: template.id, isolation: answers.isolation, files, skipped, install, git, nextSteps };
    return { data };
  } catch (error) {
    await created.removeAll();
    throw error;
  }
}

function templateList(templates: readonly Template[]): CommandResult {
  const rows = templates.map((t) => [t.id, t.title, t.description]);
  return {
    data: { templates: templates.map(({ id, title, description, baseImage }) => ({ id, title, description, baseImage })) },
    line: formatTable(rows),
  };
}

async function collectAnswers(
  dir: string | undefined,
  options: InitOptions,
  templates: readonly Template[],
  ctx: Context,
): Promise<{ answers: Answers; template: Template }> {
  const { prompter } = ctx;
  const name = options.name ?? (await askName(dir, ctx));
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`--name: ${problem}`, { hint: "A microservice name has 1 to 23 lowercase letters, digits and dashes." });

  const templateId =
    options.template ??
    (await prompter.select({
      message: "Template",
      flag: "--template",
      choices: templates.map((t) => ({ name: t.title, value: t.id, description: t.description })),
      default: templates[0]?.id,
    }));
  const template = findTemplate(templates, templateId);

  const isolation =
    options.isolation ??
    (await prompter.select<Isolation>({
      message: "Isolation",
      flag: "--isolation",
      choices: [
        { name: "Multi-tenant: one deployment serves every subscribed tenant", value: ISOLATIONS[0] },
        { name: "Per tenant: one deployment for each subscribed tenant", value: ISOLATIONS[1] },
      ],
      default: ISOLATIONS[0],
    }));

  const rolesText =
    options.requiredRoles ??
    (await prompter.input({
      message: "Required roles, comma-separated (e.g. ROLE_INVENTORY_READ; empty for none)",
      flag: "--required-roles",
      default: "",
      validate: (text) => parseRoles(text).errors[0] ?? true,
    }));
  const roles = parseRoles(rolesText);
  if (roles.errors.length > 0) throw new UsageError(`--required-roles: ${roles.errors[0]}`);
  for (const warning of roles.warnings) ctx.logger.warn(warning);

  const provider = (
    options.provider ??
    (await prompter.input({
      message: "Provider (your company)",
      flag: "--provider",
      default: DEFAULT_PROVIDER,
      validate: (text) => (text.trim() ? true : "Enter a name, e.g. your company's."),
    }))
  ).trim();
  if (!provider) throw new UsageError("--provider is empty.", { hint: "Pass your company's name, e.g. --provider \"Example Ltd.\"" });

  return { answers: { name, template: template.id, isolation, requiredRoles: roles.roles, provider }, template };
}

/** The directory's name is the default when it is a valid name (`c8y-ms init my-service`). */
async function askName(dir: string | undefined, ctx: Context): Promise<string> {
  const fromDir = dir === undefined ? undefined : basename(resolve(ctx.cwd, dir));
  const usable = fromDir !== undefined && nameProblem(fromDir) === undefined ? fromDir : undefined;
  if (fromDir !== undefined && usable === undefined && (!ctx.interactive || ctx.options.yes)) {
    throw new UsageError(`The directory name "${fromDir}" cannot be the microservice name: ${nameProblem(fromDir)}`, {
      hint: "Pass the name with --name.",
    });
  }
  return ctx.prompter.input({ message: "Microservice name", flag: "--name", default: usable, validate: (text) => nameProblem(text) ?? true });
}

/** Refuses a directory with files in it unless --force (or a yes at the prompt). */
async function prepareDirectory(targetDir: string, shown: string, force: boolean, ctx: Context): Promise<void> {
  const found = await stat(targetDir).catch(() => undefined);
  if (!found) return;
  if (!found.isDirectory()) {
    throw new UsageError(`${shown} exists and is not a directory.`, { hint: "Choose another directory for the project." });
  }
  // A fresh clone of an empty repository holds only .git: that counts as empty.
  const entries = (await readdir(targetDir)).filter((name) => name !== ".git");
  if (entries.length === 0 || force) return;
  if (ctx.interactive && !ctx.options.yes) {
    const add = await ctx.prompter.confirm({
      message: `${shown} is not empty. Add the template's files anyway? Existing files are kept.`,
      flag: "--force",
      default: false,
    });
    if (add) return;
    throw new CancelledError(`Nothing was written: ${shown} is not empty.`);
  }
  throw new UsageError(`${shown} is not empty.`, {
    hint: "Pass --force to add the template's files beside what is there (existing files are kept), or choose another directory.",
  });
}

async function installDependencies(template: Template, targetDir: string, wanted: boolean, created: CreatedPaths, ctx: Context): Promise<StepStatus> {
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

async function initGit(targetDir: string, wanted: boolean, created: CreatedPaths, ctx: Context): Promise<StepStatus> {
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

/** What each c8y-ms step does, for people reading the next steps. */
const STEP_NOTES: Readonly<Record<string, string>> = {
  validate: "check cumulocity.json",
  pack: "build the image and zip it into dist/",
  sandbox: "in another terminal: a local platform; export the C8Y_* variables it prints",
  deploy: "upload, subscribe and wait until the service is Up",
};

function nextStepLines(commands: readonly string[]): string[] {
  const width = Math.max(...commands.map((c) => c.length));
  return commands.map((c) => {
    const note = STEP_NOTES[/^(?:npx )?c8y-ms (\w+)/.exec(c)?.[1] ?? ""];
    return note ? `${c.padEnd(width)}  # ${note}` : c;
  });
}

/** `./my-service` for a path below the working directory, the absolute path otherwise. */
function displayPath(cwd: string, target: string): string {
  const rel = relative(cwd, target);
  if (rel === "") return ".";
  return rel.startsWith("..") ? target : `./${rel}`;
}
