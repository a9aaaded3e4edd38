import { findingsOf, type Diagnostic, type Location } from "../diagnostics.js";
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
  /** Set when the manifest was read out of the zip `file`: "cumulocity.json". */
  entry?: string | undefined;
  /** The manifest as written, set only when there are no errors. */
  manifest: Manifest | undefined;
  /** The document as read, also when it has errors (the sandbox quotes its version); undefined when it could not be parsed. */
  document: unknown;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** What the checks found, unsorted: `toReport` sorts it once. */
export interface Diagnosed {
  place: Pick<Location, "file" | "entry">;
  /** The document as read; undefined when it could not be parsed. */
  value: unknown;
  diagnostics: Diagnostic[];
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
 * Checks a manifest's text: JSON, or YAML when the file (or the zip entry it was read from)
 * ends in .yaml/.yml. Pure and total: any text gives a report (never an exception), and every
 * diagnostic points inside the text.
 */
export function checkManifestText(text: string, file: string, entry?: string): ManifestReport {
  return toReport(diagnoseManifestText(text, { file, entry }));
}

/** The checks of checkManifestText, for callers that add findings of their own before the report is made. */
export function diagnoseManifestText(text: string, place: Pick<Location, "file" | "entry">): Diagnosed {
  if (Buffer.byteLength(text, "utf8") > MANIFEST_MAX_BYTES) return oversized(place);
  const lines = new LineIndex(text);
  const diagnostics: Diagnostic[] = [];
  const add = (rule: RuleId, offset: number, pointer: string, message: string) =>
    diagnostics.push({ file: place.file, entry: place.entry, ...lines.position(offset), pointer, message, rule, severity: RULES[rule].severity });

  const yaml = /\.ya?ml$/i.test(place.entry ?? place.file);
  const read = yaml ? readYaml(text) : readJson(text);
  if (!read.ok) {
    add(yaml ? "yaml-syntax" : "json-syntax", read.problem.offset, "", read.problem.message);
    return { place, value: undefined, diagnostics };
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
  return { place, value, diagnostics };
}

/** Refused unread: past the cap, reading could only cost time and memory (src/manifest/limits.ts). */
export function oversized(place: Pick<Location, "file" | "entry">): Diagnosed {
  const message = `The manifest has more than ${MANIFEST_MAX_BYTES / (1024 * 1024)} MiB; a manifest is a few kilobytes: check that this is the right file.`;
  return { place, value: undefined, diagnostics: [{ ...place, line: 1, column: 1, pointer: "", message, rule: "manifest-size", severity: RULES["manifest-size"].severity }] };
}

/** The report of what was diagnosed: sorted and split once; the manifest only when nothing is an error. */
export function toReport({ place, value, diagnostics }: Diagnosed): ManifestReport {
  const { errors, warnings } = findingsOf(diagnostics);
  const manifest = errors.length === 0 && value !== undefined ? (value as Manifest) : undefined;
  return { file: place.file, entry: place.entry, manifest, document: value, errors, warnings };
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
