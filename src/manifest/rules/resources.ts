import { formatBytes } from "../../format.js";
import { CPU_MINIMUM, cpuMillicores, MEMORY_MINIMUM, MEMORY_PREFIXES, memoryBytes, REQUEST_CPU_CAP, REQUEST_MEMORY_CAP } from "../formats.js";
import { placeholderMessage, show } from "../hints.js";
import { MANIFEST_DEFAULTS } from "../schema.js";
import { objectOf, textOf, type Check, type Report } from "../rules.js";

type Kind = "cpu" | "memory";

const QUANTITY = {
  cpu: { parse: cpuMillicores, minimum: CPU_MINIMUM, cap: REQUEST_CPU_CAP, describe: (n: number) => `${n}m`, fix: cpuFix },
  memory: { parse: memoryBytes, minimum: MEMORY_MINIMUM, cap: REQUEST_MEMORY_CAP, describe: formatBytes, fix: memoryFix },
} as const;

const RESOURCE_FIELDS = ["resources", "requestedResources", "requestResources"] as const;

export const checkResourceFormats: Check = (m, report) => {
  for (const field of RESOURCE_FIELDS) {
    const block = objectOf(m[field]);
    for (const kind of ["cpu", "memory"] as const) {
      const text = textOf(block?.[kind]);
      if (text === undefined) continue;
      const amount = QUANTITY[kind].parse(text);
      if (amount === undefined) {
        const label = `${field}.${kind}`;
        const message =
          placeholderMessage(label, text, kind === "cpu" ? '"500m"' : '"512M"') ??
          `${label} ${show(text)} is not a ${kind === "cpu" ? "CPU" : "memory"} quantity: ${QUANTITY[kind].fix(text)}.`;
        report(`${kind}-format`, `/${field}/${kind}`, message);
      } else if (field === "resources") {
        checkMinimum(kind, text, amount, report);
      }
    }
  }
};

function checkMinimum(kind: Kind, text: string, amount: number, report: Report): void {
  const { minimum, parse } = QUANTITY[kind];
  if (amount >= (parse(minimum) ?? 0)) return;
  report(`${kind}-minimum`, `/resources/${kind}`, `resources.${kind} ${show(text)} is below the platform's minimum limit of ${minimum}: write "${minimum}" or more.`);
}

/**
 * Requests are compared with the limits as numbers (millicores, bytes), so "128Mi" is seen to
 * exceed "128M". A warning, not an error: EXPECTED.tsv counts corpus 034 (request 128Mi, limit
 * 128M, a service that runs) as valid, and the platform may overwrite requests (platform.md §1.1).
 */
export const checkRequests: Check = (m, report) => {
  if (m.requestResources !== undefined) {
    const which = m.requestedResources !== undefined ? "; this manifest has both, so remove \"requestResources\"" : ": rename it";
    report("field-alias", "/requestResources", `"requestResources" is the OpenAPI spelling; the platform documents "requestedResources"${which}.`, "key");
  }
  const requestField = m.requestedResources !== undefined ? "requestedResources" : "requestResources";
  const requests = objectOf(m[requestField]);
  if (!requests) return;
  const limits = objectOf(m.resources);
  for (const kind of ["cpu", "memory"] as const) {
    const { parse, describe, cap } = QUANTITY[kind];
    const text = textOf(requests[kind]);
    const requested = text === undefined ? undefined : parse(text);
    if (text === undefined || requested === undefined) continue;
    const explicitLimit = textOf(limits?.[kind]);
    const limitText = explicitLimit ?? MANIFEST_DEFAULTS.resources[kind];
    const limit = parse(limitText);
    const pointer = `/${requestField}/${kind}`;
    if (limit !== undefined && requested > limit) {
      const which = explicitLimit === undefined ? `the default limit ${show(limitText)}` : `the limit resources.${kind} ${show(limitText)}`;
      report(
        "requested-above-limit",
        pointer,
        `${requestField}.${kind} ${show(text)} (${describe(requested)}) is above ${which} (${describe(limit)}); a container cannot request more than its limit: lower the request to ${show(limitText)} or less, or raise the limit.`,
      );
    } else if (requested > (parse(cap) ?? Number.POSITIVE_INFINITY)) {
      report("requested-above-cap", pointer, `${requestField}.${kind} ${show(text)} is above ${cap}, where the platform usually caps requests; it may reserve less than you ask.`);
    }
  }
};

function cpuFix(text: string): string {
  const trimmed = text.trim().replace(",", ".");
  if (trimmed !== text && cpuMillicores(trimmed) !== undefined) return `write ${show(trimmed)}`;
  const millis = /^(\d+)\s*(?:M|milli|millicores?)$/i.exec(trimmed);
  if (millis) return `millicores take a lowercase "m": write "${millis[1]}m"`;
  return 'write cores ("1", "0.5") or millicores ("500m")';
}

const UNIT_SPELLINGS: Record<string, string> = { k: "K", m: "M", g: "G", t: "T", p: "P", e: "E", b: "B" };

function memoryFix(text: string): string {
  const match = /^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const usage = 'write an integer with a unit E, P, T, G, M, K or Ei, Pi, Ti, Gi, Mi, Ki, e.g. "512M" or "1Gi"';
  if (!match) return usage;
  const amount = Number((match[1] ?? "").replace(",", "."));
  const unit = normaliseUnit(match[2] ?? "");
  if (unit === undefined) return usage;
  const lowercase = /^[kmgtpe]i?$/.test(match[2] ?? "") ? `units are uppercase ("m" would mean thousandths); ` : "";
  if (Number.isInteger(amount)) return `${lowercase}write "${amount}${unit}"`;
  // Decimals are not allowed: say the same amount in the next smaller unit of the same family.
  const smaller = smallerUnit(unit);
  if (!smaller) return `decimals are not allowed: write "${Math.round(amount)}${unit}"`;
  return `${lowercase}decimals are not allowed: write "${Math.round(amount * smaller.factor)}${smaller.unit}"`;
}

function normaliseUnit(unit: string): string | undefined {
  if (unit === "") return "";
  const base = UNIT_SPELLINGS[unit.charAt(0).toLowerCase()];
  if (!base) return undefined;
  const rest = unit.slice(1).toLowerCase();
  if (base === "B") return rest === "" || rest === "ytes" || rest === "yte" ? "" : undefined;
  if (rest === "" || rest === "b") return base;
  if (rest === "i" || rest === "ib") return `${base}i`;
  return undefined;
}

/** The next smaller unit of the same family ("G" -> "M", "Gi" -> "Mi", "K" -> bytes), to say a decimal amount without decimals. */
function smallerUnit(unit: string): { unit: string; factor: number } | undefined {
  const binary = unit.endsWith("i");
  const index = MEMORY_PREFIXES.indexOf((binary ? unit.slice(0, -1) : unit) as (typeof MEMORY_PREFIXES)[number]);
  if (index < 0) return undefined;
  const prefix = MEMORY_PREFIXES[index - 1];
  return { unit: prefix === undefined ? "" : binary ? `${prefix}i` : prefix, factor: binary ? 1024 : 1000 };
}
