import { link, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { CancelledError, UsageError } from "../errors.js";
import { commitTemp, discardTemp, tempPathFor } from "../fs/atomic.js";
import { templateValues, type Answers } from "./answers.js";
import { TEMPLATE_FILE, type Template } from "./catalog.js";
import { manifestWithAnswers, renderText } from "./render.js";

/** npm leaves dotfiles such as .gitignore out of published packages, so templates store them renamed (as create-vite does). */
const RENAMES: Readonly<Record<string, string>> = { _gitignore: ".gitignore", _dockerignore: ".dockerignore" };

/** Left behind when a template's own tests run in place; never part of a new project. */
const NEVER_COPIED = new Set([TEMPLATE_FILE, "node_modules", "__pycache__"]);

const MANIFEST = "cumulocity.json";

export interface PlannedFile {
  /** Where the file is in the template. */
  source: string;
  /** Where it goes, relative to the project, with `/` separators. */
  path: string;
  /** Path relative to the template folder, as template.json's `render` names it. */
  templatePath: string;
  mode: number;
}

/** The files a template writes, in a stable order. */
export async function planFiles(template: Template): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (NEVER_COPIED.has(entry.name)) continue;
      const source = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(source);
        continue;
      }
      const templatePath = relative(template.dir, source).split(sep).join("/");
      const renamed = RENAMES[entry.name];
      const path = renamed ? templatePath.slice(0, -entry.name.length) + renamed : templatePath;
      planned.push({ source, path, templatePath, mode: (await stat(source)).mode & 0o777 });
    }
  };
  await walk(template.dir);
  return planned;
}

/**
 * Paths a command created, in order, so that a failure or Ctrl-C can take them back: the user
 * never finds a half-made project, and nothing that was there before is touched.
 */
export class CreatedPaths {
  readonly #paths: string[] = [];

  add(path: string): void {
    this.#paths.push(path);
  }

  async removeAll(): Promise<void> {
    for (const path of this.#paths.splice(0).reverse()) await rm(path, { recursive: true, force: true });
  }
}

export interface ScaffoldOptions {
  template: Template;
  targetDir: string;
  answers: Answers;
  /** Every file and directory scaffold creates is recorded here. */
  created: CreatedPaths;
  signal?: AbortSignal;
}

export interface ScaffoldResult {
  /** Files written, relative to the project. */
  files: string[];
  /** Template files not written because the path already existed: existing files are never replaced. */
  skipped: string[];
}

/** A lock file belongs to its package.json: one written beside a kept package.json would not match it. */
const COMPANIONS: Readonly<Record<string, string>> = { "package-lock.json": "package.json" };

/**
 * Copies a template into `targetDir`, filling in the answers. Each file is written to a
 * temporary name and linked into place, which fails instead of replacing a file that appeared
 * in the meantime. Files that exist are kept and reported as skipped.
 */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { template, targetDir, answers, created, signal } = options;
  const planned = await planFiles(template);
  await assertDirectoriesFree(targetDir, planned);

  const values = templateValues(answers);
  const result: ScaffoldResult = { files: [], skipped: [] };
  const kept = new Set<string>();
  for (const principal of new Set(Object.values(COMPANIONS))) {
    if (await stat(join(targetDir, principal)).then(() => true, () => false)) kept.add(principal);
  }
  for (const file of planned) {
    if (signal?.aborted) throw new CancelledError();
    const principal = COMPANIONS[file.path];
    if (principal && kept.has(principal)) {
      result.skipped.push(file.path);
      continue;
    }
    const target = join(targetDir, ...file.path.split("/"));
    const made = await mkdir(dirname(target), { recursive: true });
    if (made !== undefined) created.add(made);
    const text = await readFile(file.source, "utf8");
    const content =
      file.path === MANIFEST
        ? manifestWithAnswers(text, answers)
        : template.render.includes(file.templatePath)
          ? renderText(text, values, { json: file.path.endsWith(".json") })
          : await readFile(file.source);
    if (await writeNewFile(target, content, file.mode)) {
      created.add(target);
      result.files.push(file.path);
    } else {
      result.skipped.push(file.path);
    }
  }
  return result;
}

/** Before anything is written: a directory the template needs must not exist as a file. */
async function assertDirectoriesFree(targetDir: string, planned: readonly PlannedFile[]): Promise<void> {
  const directories = new Set(planned.flatMap((f) => f.path.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
  for (const dir of directories) {
    const found = await stat(join(targetDir, ...dir.split("/"))).catch(() => undefined);
    if (found && !found.isDirectory()) {
      throw new UsageError(`${dir} exists in ${targetDir} and is not a directory, but the template puts files in it.`, {
        hint: "Move it out of the way, or scaffold into another directory.",
      });
    }
  }
}

/** Writes `target` atomically unless it exists; false when it existed. */
async function writeNewFile(target: string, content: string | Uint8Array, mode: number): Promise<boolean> {
  const temp = tempPathFor(target);
  try {
    await writeFile(temp, content, { mode });
    try {
      await link(temp, target);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      // File systems without hard links (FAT, some network shares): check, then rename.
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
      if (await stat(target).then(() => true, () => false)) return false;
      await commitTemp(temp, target);
      return true;
    }
  } finally {
    await discardTemp(temp);
  }
}
