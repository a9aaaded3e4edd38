import { TemplateError } from "./catalog.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/**
 * Fills `{{name}}`-style placeholders: no template engine, no logic. In JSON files the values
 * are escaped as JSON string content. A placeholder without a value is a broken template and
 * throws rather than leaving `{{...}}` in a user's project.
 */
export function renderText(text: string, values: Readonly<Record<string, string>>, options: { json?: boolean } = {}): string {
  return text.replace(PLACEHOLDER, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new TemplateError(`The template uses {{${key}}}, which has no value.`);
    return options.json ? JSON.stringify(value).slice(1, -1) : value;
  });
}

export interface ManifestAnswers {
  name: string;
  isolation: string;
  provider: string;
  requiredRoles: readonly string[];
}

/**
 * The template's cumulocity.json with the user's answers. It is edited as JSON, not through
 * placeholders, so each template's manifest stays a valid manifest that tests check as it is.
 */
export function manifestWithAnswers(text: string, answers: ManifestAnswers): string {
  const manifest = JSON.parse(text) as Record<string, unknown>;
  const provider = typeof manifest.provider === "object" && manifest.provider !== null ? manifest.provider : {};
  Object.assign(manifest, {
    name: answers.name,
    provider: { ...provider, name: answers.provider },
    isolation: answers.isolation,
    requiredRoles: [...answers.requiredRoles],
  });
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
