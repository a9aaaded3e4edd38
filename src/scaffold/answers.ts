import { checkRoles } from "../manifest/rules/access.js";
import { checkName } from "../manifest/rules/identity.js";
import { RULES } from "../manifest/rules.js";
import type { ManifestAnswers } from "./render.js";

export const ISOLATIONS = ["MULTI_TENANT", "PER_TENANT"] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export interface Answers extends ManifestAnswers {
  template: string;
  isolation: Isolation;
}

export const DEFAULT_PROVIDER = "My Company";

/**
 * Why `name` cannot be a new microservice's name, or undefined when it can. The manifest's own
 * name rules decide (platform.md §1.6); a new name must not even draw a warning.
 */
export function nameProblem(name: string): string | undefined {
  if (name === "") return 'Enter a name, e.g. "my-service".';
  const problems: string[] = [];
  checkName({ name }, (_rule, _pointer, message) => problems.push(message));
  return problems[0];
}

export interface ParsedRoles {
  roles: string[];
  /** Roles the platform would refuse. */
  errors: string[];
  /** Roles that are allowed but probably not what was meant. */
  warnings: string[];
}

/** `--required-roles` and its prompt: comma-separated permission strings (each kept once), checked by the manifest's role rules. */
export function parseRoles(text: string): ParsedRoles {
  const roles = [
    ...new Set(
      text
        .split(",")
        .map((role) => role.trim())
        .filter((role) => role !== ""),
    ),
  ];
  const parsed: ParsedRoles = { roles, errors: [], warnings: [] };
  checkRoles({ requiredRoles: roles }, (rule, _pointer, message) => {
    (RULES[rule].severity === "error" ? parsed.errors : parsed.warnings).push(message);
  });
  return parsed;
}

/** The values of `{{placeholders}}` in a template's rendered files. */
export function templateValues(answers: Answers): Record<string, string> {
  return {
    name: answers.name,
    isolation: answers.isolation,
    provider: answers.provider,
    requiredRoles: answers.requiredRoles.join(", ") || "none",
  };
}
