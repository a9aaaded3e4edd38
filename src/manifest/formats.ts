/**
 * Value formats of cumulocity.json (platform.md §1). The model puts them into the published
 * JSON Schema for editors; the rules check them with messages that say what to write instead.
 */

/** platform.md §1.6: lowercase letters, digits and dashes, at most 23 (a hard quota). */
export const NAME_PATTERN = /^[a-z0-9-]+$/;
export const NAME_MAX_LENGTH = 23;

/** platform.md §1.1: a positive integer, optionally prefixed with `v`. */
export const API_VERSION_PATTERN = /^v?[1-9][0-9]*$/;

/** SemVer 2.0.0 without build metadata: the platform rejects `+` (platform.md §1.7). */
export const VERSION_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;
export const SNAPSHOT_SUFFIX = "-SNAPSHOT";

/** platform.md §1.6: the characters the platform's context-path check allows; 255 is the REST model's limit. */
export const CONTEXT_PATH_PATTERN = /^[A-Za-z0-9._~-]+$/;
export const CONTEXT_PATH_MAX_LENGTH = 255;

/**
 * platform.md §1.1 and §7 leave this open: the Maven plugin accepts letters only, the newer
 * manifest reference and the 2025.116.0 validator (MTM-62711) letters, digits and dots. We
 * follow the platform's own validator, the newest source; the plugin is a build tool.
 */
export const SETTINGS_CATEGORY_PATTERN = /^[A-Za-z0-9.]+$/;

/** platform.md §1.3: cores (`1`, `0.5`) or millicores (`500m`). */
export const CPU_PATTERN = /^\d+(?:\.\d+)?m?$/;
/** platform.md §1.3: an integer with an optional unit; decimals and lowercase units are rejected. */
export const MEMORY_PATTERN = /^\d+\s*(?:[KMGTPE]i?|B)?$/;
export const CPU_MINIMUM = "100m";
export const MEMORY_MINIMUM = "10M";
/** platform.md §1.1 / [DOC-SLA]: requests above these are usually capped by the platform. */
export const REQUEST_CPU_CAP = "250m";
export const REQUEST_MEMORY_CAP = "256M";

export const REPLICAS_MIN = 1;
export const REPLICAS_MAX = 5;
/** [DOC-SLA]: production services need at least two replicas. */
export const REPLICAS_PRODUCTION = 2;

export const PORT_MIN = 1;
export const PORT_MAX = 65535;

/** [CL-PROBE] 10.20.478.0: probe values must not contain whitespace or line feeds. */
export const NO_WHITESPACE_PATTERN = /^\S+$/;

/** A permission string such as ROLE_INVENTORY_READ (platform.md §1.1). */
export const ROLE_NAME_PATTERN = /^ROLE_[A-Z0-9_]+$/;
/** Custom roles appear in the UI only when named ROLE_<NAME>_(READ|ADMIN|CREATE) (platform.md §1.1). */
export const UI_ROLE_PATTERN = /^ROLE_[A-Z0-9_]+_(?:READ|ADMIN|CREATE)$/;

/** Memory unit prefixes from small to large: K, M, G... are powers of 1000; Ki, Mi, Gi... powers of 1024 (platform.md §1.3). */
export const MEMORY_PREFIXES = ["K", "M", "G", "T", "P", "E"] as const;

function unitFactor(unit: string): number {
  if (unit === "" || unit === "B") return 1;
  const binary = unit.endsWith("i");
  const power = MEMORY_PREFIXES.indexOf((binary ? unit.slice(0, -1) : unit) as (typeof MEMORY_PREFIXES)[number]) + 1;
  return (binary ? 1024 : 1000) ** power;
}

/** `"500m"` -> 500, `"0.5"` -> 500; undefined when the text is not a CPU quantity. */
export function cpuMillicores(text: string): number | undefined {
  if (!CPU_PATTERN.test(text)) return undefined;
  return text.endsWith("m") ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

/** `"512M"` -> 512e6, `"1Gi"` -> 2^30 (SI and binary units as the platform reads them); undefined when invalid. */
export function memoryBytes(text: string): number | undefined {
  const match = /^(\d+)\s*([KMGTPE]i?|B)?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * unitFactor(match[2] ?? "");
}
