import {
  API_VERSION_PATTERN,
  CONTEXT_PATH_MAX_LENGTH,
  CONTEXT_PATH_PATTERN,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  REPLICAS_MAX,
  REPLICAS_MIN,
  REPLICAS_PRODUCTION,
  SETTINGS_CATEGORY_PATTERN,
  VERSION_PATTERN,
} from "../formats.js";
import { placeholderMessage, show } from "../hints.js";
import { objectOf, textOf, type Check } from "../rules.js";

export const checkApiVersion: Check = (m, report) => {
  const value = textOf(m.apiVersion);
  if (value === undefined) return;
  if (value.trim() === "") {
    report("empty-value", "/apiVersion", 'apiVersion is empty: write "2".');
  } else if (/^v?1$/.test(value)) {
    const fix = value.startsWith("v") ? "v2" : "2";
    report(
      "api-version-removed",
      "/apiVersion",
      `Use "${fix}": apiVersion ${value} was removed from the platform, which may refuse to upload or subscribe this service. Version 2 runs the container with only the NET_BIND_SERVICE capability.`,
    );
  } else if (!/^v?2$/.test(value)) {
    const why = API_VERSION_PATTERN.test(value) ? `${show(value)} is not a documented manifest version` : `${show(value)} is not a version number`;
    report("api-version-format", "/apiVersion", `${why}; the platform reads it as version 2: write "2".`);
  }
};

export const checkName: Check = (m, report) => {
  const name = textOf(m.name);
  if (name === undefined) return;
  if (name === "") {
    report("name-format", "/name", 'name is empty: write a name such as "my-service", or remove the field to derive the name from the zip file name.');
    return;
  }
  if (!NAME_PATTERN.test(name)) {
    const slug = slugify(name);
    const fix = slug ? `: write ${show(slug)}` : "";
    report("name-format", "/name", `name ${show(name)} may contain only lowercase letters, digits and dashes${fix}.`);
  }
  if (name.length > NAME_MAX_LENGTH) {
    report("name-length", "/name", `name ${show(name)} has ${name.length} characters; the platform allows at most ${NAME_MAX_LENGTH}: shorten it.`);
  }
  if (NAME_PATTERN.test(name) && (name.startsWith("-") || name.endsWith("-"))) {
    report("name-dashes", "/name", `name ${show(name)} starts or ends with a dash, which service names in Kubernetes may not: write ${show(name.replace(/^-+|-+$/g, "") || "my-service")}.`);
  }
};

/** A name the platform accepts, made from what the user wrote ("Goneric MQTT" -> "goneric-mqtt"). */
function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, NAME_MAX_LENGTH)
    .replace(/-$/, "");
}

export const checkVersion: Check = (m, report) => {
  const version = textOf(m.version);
  if (version === undefined) return;
  if (version.trim() === "") {
    report("empty-value", "/version", 'version is empty: write a semantic version such as "1.0.0".');
    return;
  }
  if (VERSION_PATTERN.test(version)) return;
  const message = placeholderMessage("version", version, '"1.0.0"') ?? `version ${show(version)} is not a valid semantic version: ${versionFix(version)}.`;
  report("version-semver", "/version", message);
};

function versionFix(version: string): string {
  const [withoutBuild] = version.split("+");
  if (withoutBuild !== version && withoutBuild && VERSION_PATTERN.test(withoutBuild)) {
    return `the platform does not allow build metadata ("+..."): write ${show(withoutBuild)}`;
  }
  if (/^[vV]/.test(version) && VERSION_PATTERN.test(version.slice(1))) return `write ${show(version.slice(1))} without the "v"`;
  const short = /^(\d+)(?:\.(\d+))?(-.+)?$/.exec(version);
  if (short) return `it needs three numbers, MAJOR.MINOR.PATCH: write ${show(`${Number(short[1])}.${Number(short[2] ?? 0)}.0${short[3] ?? ""}`)}`;
  return 'write MAJOR.MINOR.PATCH with an optional pre-release, e.g. "1.0.0" or "1.0.0-SNAPSHOT"';
}

export const checkProvider: Check = (m, report) => {
  const name = textOf(objectOf(m.provider)?.name);
  if (name !== undefined && name.trim() === "") report("empty-value", "/provider/name", 'provider.name is empty: write your company or your name, e.g. "Example Ltd.".');
};

/**
 * platform.md §1.6 lists a–z A–Z 0–9 - . _ ~, while one platform error text also mentions "/".
 * We follow the documented list: a slash would nest the service's URL under /service/.
 */
export const checkContextPath: Check = (m, report) => {
  const path = textOf(m.contextPath);
  if (path === undefined) return;
  if (path === "") {
    report("context-path-format", "/contextPath", "contextPath is empty: remove it to use the name, or write a path such as \"my-service\".");
  } else if (!CONTEXT_PATH_PATTERN.test(path)) {
    const bad = badCharacters(path, /[A-Za-z0-9._~-]/);
    const cleaned = path.replace(/^\/+/, "").replace(/[^A-Za-z0-9._~-]+/g, "-");
    report("context-path-format", "/contextPath", `contextPath ${show(path)} contains ${bad}; only letters, digits and - . _ ~ are allowed: write ${show(cleaned)}.`);
  } else if (path.length > CONTEXT_PATH_MAX_LENGTH) {
    report("context-path-format", "/contextPath", `contextPath has ${path.length} characters; at most ${CONTEXT_PATH_MAX_LENGTH} are allowed.`);
  }
};

export const checkSettingsCategory: Check = (m, report) => {
  const category = textOf(m.settingsCategory);
  if (category === undefined) return;
  if (SETTINGS_CATEGORY_PATTERN.test(category)) return;
  const cleaned = category.replace(/[^A-Za-z0-9.]+/g, "");
  const fix = cleaned ? `: write ${show(cleaned)}` : "";
  const what = category === "" ? "settingsCategory is empty" : `settingsCategory ${show(category)} contains ${badCharacters(category, /[A-Za-z0-9.]/)}`;
  report("settings-category-format", "/settingsCategory", `${what}; only letters, digits and dots are allowed${fix}.`);
};

export const checkReplicas: Check = (m, report) => {
  const replicas = m.replicas;
  if (typeof replicas !== "number" || !Number.isInteger(replicas)) return;
  if (replicas < REPLICAS_MIN || replicas > REPLICAS_MAX) {
    const fix = replicas < REPLICAS_MIN ? REPLICAS_MIN : REPLICAS_MAX;
    report("replicas-range", "/replicas", `replicas is ${replicas}; the platform allows ${REPLICAS_MIN} to ${REPLICAS_MAX}: write ${fix}.`);
  } else if (replicas < REPLICAS_PRODUCTION) {
    report("replicas-production", "/replicas", `replicas is ${replicas}: a production service needs at least ${REPLICAS_PRODUCTION} to stay available during restarts and updates.`);
  }
};

/** `" " and "/"`: the characters outside `allowed`, named so whitespace is visible. */
function badCharacters(text: string, allowed: RegExp): string {
  const bad = [...new Set([...text].filter((c) => !allowed.test(c)))].slice(0, 4);
  return bad.map((c) => (c === " " ? "a space" : /\s/.test(c) ? JSON.stringify(c) : `"${c}"`)).join(", ");
}
