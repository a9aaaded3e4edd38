import { compareDiagnostics, type Diagnostic } from "./diagnostics.js";
import { readJson } from "./read-json.js";
import { readYaml } from "./read-yaml.js";
import { checkRoles, checkSettings } from "./rules/access.js";
import { checkApiVersion, checkContextPath, checkName, checkProvider, checkReplicas, checkSettingsCategory, checkVersion } from "./rules/identity.js";
import { checkProbes } from "./rules/probes.js";
import { checkRequests, checkResourceFormats } from "./rules/resources.js";
import { objectOf, RULES, type Anchor, type Check, type Report, type RuleId } from "./rules.js";
import type { Manifest } from "./schema.js";
import { LineIndex, parentPointer, type Locations } from "./source.js";
import { MANIFEST_MAX_BYTES } from "./limits.js";
import { checkStructure } from "./structure.js";

export interface ManifestReport {
  file: string;
  /** The manifest as written, set only when there are no errors. */
  manifest: Manifest | undefined;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** The semantic rules, in the order of platform.md §1. */
const CHECKS: readonly Check[] = [
  checkApiVersion,
  checkName,
  checkVersion,
  checkProvider,
  checkContextPath,
  checkReplicas,
  checkResourceFormats,
  checkRequests,
  checkSettingsCategory,
  checkSettings,
  checkRoles,
  checkProbes,
];

/**
 * Checks a manifest's text: JSON, or YAML when `file` ends in .yaml/.yml. Pure and total: any
 * text gives a report (never an exception), and every diagnostic points inside the text.
 */
export function checkManifestText(text: string, file: string): ManifestReport {
  if (Buffer.byteLength(text, "utf8") > MANIFEST_MAX_BYTES) return oversizedReport(file);
  const lines = new LineIndex(text);
  const diagnostics: Diagnostic[] = [];
  const add = (rule: RuleId, offset: number, pointer: string, message: string) =>
    diagnostics.push({ file, ...lines.position(offset), pointer, message, rule, severity: RULES[rule].severity });

  const yaml = /\.ya?ml$/i.test(file);
  const read = yaml ? readYaml(text) : readJson(text);
  if (!read.ok) {
    add(yaml ? "yaml-syntax" : "json-syntax", read.problem.offset, "", read.problem.message);
    return toReport(file, undefined, diagnostics);
  }
  const { value, locations, duplicateKeys } = read.document;
  for (const duplicate of duplicateKeys) {
    const { line, column } = lines.position(duplicate.first.start);
    const key = duplicate.pointer.slice(duplicate.pointer.lastIndexOf("/") + 1);
    add("duplicate-key", duplicate.key.start, duplicate.pointer, `"${key}" is written again (first at line ${line} column ${column}); only this last one counts: remove one of them.`);
  }
  const report: Report = (rule, pointer, message, anchor = "value") => add(rule, offsetOf(locations, pointer, anchor), pointer, message);
  checkStructure(value, report, (pointer) => {
    const span = locations.get(pointer)?.value;
    return span && text.slice(span.start, span.end);
  });
  const manifest = objectOf(value);
  if (manifest) for (const check of CHECKS) check(manifest, report);
  return toReport(file, value, diagnostics);
}

/** Refused unread: past the cap, reading could only cost time and memory (src/manifest/limits.ts). */
export function oversizedReport(file: string): ManifestReport {
  const message = `The manifest has more than ${MANIFEST_MAX_BYTES / (1024 * 1024)} MiB; a manifest is a few kilobytes: check that this is the right file.`;
  return toReport(file, undefined, [{ file, line: 1, column: 1, pointer: "", message, rule: "manifest-size", severity: RULES["manifest-size"].severity }]);
}

export function toReport(file: string, value: unknown, diagnostics: Diagnostic[]): ManifestReport {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  const errors = sorted.filter((d) => d.severity === "error");
  const warnings = sorted.filter((d) => d.severity === "warning");
  return { file, manifest: errors.length === 0 && value !== undefined ? (value as Manifest) : undefined, errors, warnings };
}

/** The value's start, or its key's; for a missing field, the key of the nearest parent that exists. */
function offsetOf(locations: Locations, pointer: string, anchor: Anchor): number {
  const location = locations.get(pointer);
  if (location) return anchor === "key" && location.key ? location.key.start : location.value.start;
  let parent = pointer;
  while (parent !== "") {
    parent = parentPointer(parent);
    const found = locations.get(parent);
    if (found) return (found.key ?? found.value).start;
  }
  return 0;
}
