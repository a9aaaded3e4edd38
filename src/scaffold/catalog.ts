import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { UsageError } from "../errors.js";

/** `templates/` ships beside `dist/` in the package; from src/ (tests) it is the same two levels up. */
export const TEMPLATES_DIR = fileURLToPath(new URL("../../templates", import.meta.url));

export const TEMPLATE_FILE = "template.json";

const templateSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  description: z.string().min(1),
  /** Position in lists and prompts. */
  order: z.number().int(),
  /** The default of the Dockerfile's BASE_IMAGE build argument, shown in the next steps. */
  baseImage: z.string().min(1),
  /** Text files whose {{placeholders}} are filled in; every other file is copied as it is. */
  render: z.array(z.string()).default([]),
  /** The command that installs dependencies (run unless --no-install), e.g. ["npm", "install"]. */
  install: z.array(z.string()).min(1).optional(),
});

export type TemplateInfo = z.infer<typeof templateSchema>;

export interface Template extends TemplateInfo {
  dir: string;
}

/** A template folder that does not describe itself correctly: a bug in c8y-ms, not a user error. */
export class TemplateError extends Error {}

/** Every template under `root`, in their `order`. */
export async function listTemplates(root = TEMPLATES_DIR): Promise<Template[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const templates = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => readTemplate(join(root, e.name))));
  return templates.sort((a, b) => a.order - b.order);
}

export function findTemplate(templates: readonly Template[], id: string): Template {
  const template = templates.find((t) => t.id === id);
  if (!template) {
    throw new UsageError(`There is no template "${id}".`, {
      hint: `Choose one of: ${templates.map((t) => t.id).join(", ")} (c8y-ms init --list-templates describes them).`,
    });
  }
  return template;
}

async function readTemplate(dir: string): Promise<Template> {
  const file = join(dir, TEMPLATE_FILE);
  const parsed = templateSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
  if (!parsed.success) throw new TemplateError(`${file}: ${z.prettifyError(parsed.error)}`);
  return { ...parsed.data, dir };
}
