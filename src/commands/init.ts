import { readdir, stat } from "node:fs/promises";
import { basename, relative, resolve } from "node:path";
import type { Context } from "../context.js";
import type { CommandOptions } from "../options.js";
import { CancelledError, UsageError } from "../errors.js";
import type { CommandResult } from "../result.js";
import { DEFAULT_PROVIDER, ISOLATIONS, nameProblem, parseRoles, type Answers, type Isolation } from "../scaffold/answers.js";
import { findTemplate, listTemplates, type Template } from "../scaffold/catalog.js";
import { createProject, type CreatedProject } from "../pipeline/create-project.js";
import { formatTable } from "../ui/format.js";

type InitOptions = CommandOptions["init"];

/** The `--json` document of `c8y-ms init`. */
export interface InitResult extends CreatedProject {
  dir: string;
  name: string;
  template: string;
  isolation: Isolation;
}

/**
 * `c8y-ms init [dir]`: asks for what the flags did not say, then creates the project
 * (src/pipeline/create-project.ts) and says what to run next.
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

  // 3. The project (files, dependencies, git), and what to run next.
  const project = await createProject({ template, targetDir, shown, answers, install: options.install, git: options.git }, ctx);
  ctx.logger.info("");
  ctx.logger.info("Next steps:");
  for (const line of nextStepLines(project.nextSteps)) ctx.logger.info(`  ${line}`);
  const data: InitResult = { dir: targetDir, name: answers.name, template: template.id, isolation: answers.isolation, ...project };
  return { data };
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
