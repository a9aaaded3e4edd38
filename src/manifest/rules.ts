import type { Severity } from "../diagnostics.js";

export interface RuleInfo {
  severity: Severity;
  /** What the rule checks, in one line. */
  summary: string;
  /** Where the rule comes from (sections of spec/platform.md, or the format's standard). */
  source: string;
}

/**
 * Every diagnostic carries one of these ids. They are a contract: users grep for them, the
 * sandbox maps some to the platform's upload error texts, and tests name them. Add ids; never
 * rename or reuse one.
 */
export const RULES = {
  "json-syntax": { severity: "error", summary: "The file is strict JSON (no comments, trailing or missing commas).", source: "RFC 8259" },
  "yaml-syntax": { severity: "error", summary: "The file is one well-formed YAML document.", source: "YAML 1.2" },
  "duplicate-key": { severity: "warning", summary: "A key appears once per object (otherwise the last one wins).", source: "RFC 8259 §4" },
  type: { severity: "error", summary: "Each field has the type of the model (string, whole number, object, array...).", source: "platform.md §1.1–1.5" },
  required: { severity: "error", summary: "Required fields are present: apiVersion, version, provider.name, settings key/defaultValue, httpGet.path...", source: "platform.md §1.1–1.5" },
  "enum-value": { severity: "error", summary: "isolation, scale, billingMode and httpGet.scheme take one of their documented values.", source: "platform.md §1.1, §1.5" },
  "empty-value": { severity: "error", summary: "Required text fields are not empty.", source: "platform.md §1.1, §1.2, §1.4 (Java plugin: length >= 1)" },
  "unknown-field": { severity: "warning", summary: "Fields the platform does not document are reported, with the near miss when there is one.", source: "platform.md §1.1" },
  "misplaced-field": { severity: "warning", summary: "A known field written at the wrong level (e.g. resources inside a probe).", source: "platform.md §1.1" },
  "field-alias": { severity: "warning", summary: "requestResources is the OpenAPI spelling; the documented field is requestedResources.", source: "platform.md §1.1" },
  "api-version-removed": { severity: "error", summary: "apiVersion 1 was removed from the platform.", source: "platform.md §1.1 [CL-APIV1], [DOC-MIGRATION]" },
  "api-version-format": { severity: "warning", summary: 'apiVersion is "2" or "v2"; other values are read as version 2.', source: "platform.md §1.1" },
  "name-format": { severity: "error", summary: "name has only lowercase letters, digits and dashes.", source: "platform.md §1.6" },
  "name-length": { severity: "error", summary: "name has at most 23 characters.", source: "platform.md §1.6, [DOC-QUOTAS]" },
  "name-dashes": { severity: "warning", summary: "name starts and ends with a letter or digit.", source: "platform.md §1.6 (undocumented; Kubernetes names require it)" },
  "version-semver": { severity: "error", summary: "version is SemVer without build metadata ('+'); -SNAPSHOT is allowed.", source: "platform.md §1.1, §1.7" },
  "context-path-format": { severity: "error", summary: "contextPath has only letters, digits and - . _ ~, at most 255 characters.", source: "platform.md §1.6" },
  "settings-category-format": { severity: "error", summary: "settingsCategory has only letters, digits and dots.", source: "platform.md §1.1, §7" },
  "replicas-range": { severity: "error", summary: "replicas is 1 to 5.", source: "platform.md §1.1" },
  "replicas-production": { severity: "warning", summary: "Production services run at least 2 replicas.", source: "platform.md §1.1 [DOC-SLA]" },
  "cpu-format": { severity: "error", summary: 'CPU is cores ("0.5") or millicores ("500m").', source: "platform.md §1.3" },
  "cpu-minimum": { severity: "error", summary: "The CPU limit is at least 100m.", source: "platform.md §1.3" },
  "memory-format": { severity: "error", summary: 'Memory is an integer with an optional unit ("512M", "1Gi"); no decimals, no lowercase units.', source: "platform.md §1.3" },
  "memory-minimum": { severity: "error", summary: "The memory limit is at least 10M.", source: "platform.md §1.3" },
  "requested-above-limit": { severity: "warning", summary: "requestedResources are not above resources (compared in millicores and bytes).", source: "platform.md §1.1, §1.3" },
  "requested-above-cap": { severity: "warning", summary: "Requests above 250m CPU or 256M memory are usually capped by the platform.", source: "platform.md §1.1, §1.3 [DOC-SLA]" },
  "probe-action": { severity: "error", summary: "A probe has exactly one action: exec, tcpSocket or httpGet.", source: "platform.md §1.5" },
  "probe-port": { severity: "error", summary: "Probe ports are 1 to 65535.", source: "platform.md §1.5" },
  "probe-whitespace": { severity: "error", summary: "Probe actions contain no whitespace or line feeds.", source: "platform.md §1.5 [CL-PROBE]" },
  "probe-threshold": { severity: "error", summary: "periodSeconds, timeoutSeconds, successThreshold and failureThreshold are at least 1; initialDelaySeconds at least 0.", source: "platform.md §1.5" },
  "probe-command": { severity: "error", summary: "exec.command has at least one item.", source: "platform.md §1.5" },
  "probe-path": { severity: "warning", summary: "httpGet.path starts with '/'.", source: "platform.md §1.5" },
  "probe-liveness-success": { severity: "warning", summary: "A liveness probe's successThreshold is 1.", source: "platform.md §1.5 (Kubernetes probe semantics)" },
  "setting-key-unique": { severity: "error", summary: "Each settings key appears once.", source: "platform.md §1.4" },
  "role-format": { severity: "error", summary: "Roles are permission strings: not empty, no whitespace.", source: "platform.md §1.1" },
  "role-name": { severity: "warning", summary: "Roles look like ROLE_<NAME>; custom roles end in _READ, _ADMIN or _CREATE to show in the UI.", source: "platform.md §1.1" },
  "role-duplicate": { severity: "warning", summary: "A role is listed once.", source: "platform.md §1.1" },
  "manifest-size": { severity: "error", summary: "The manifest has at most 1 MiB (a real one has a few kilobytes).", source: "c8y-ms: the cap the zip check has always applied" },
  "multiple-manifests": { severity: "warning", summary: "A directory holds one of cumulocity.json, cumulocity.yaml and cumulocity.yml.", source: "spec/cli.md (validate)" },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

/** Where a diagnostic points: the value (default) or, for a member, its key. */
export type Anchor = "value" | "key";

export type Report = (rule: RuleId, pointer: string, message: string, anchor?: Anchor) => void;

/** A semantic rule: looks at the parsed manifest (any shape: types were checked separately) and reports. */
export type Check = (manifest: Readonly<Record<string, unknown>>, report: Report) => void;

/** Rules see raw input: a field of the wrong type was reported by the model and is skipped here. */
export function textOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function objectOf(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
