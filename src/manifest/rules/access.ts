import { ROLE_NAME_PATTERN, UI_ROLE_PATTERN } from "../formats.js";
import { show } from "../hints.js";
import { objectOf, textOf, type Check } from "../rules.js";

export const checkSettings: Check = (m, report) => {
  if (!Array.isArray(m.settings)) return;
  const seen = new Map<string, number>();
  m.settings.forEach((item, i) => {
    const setting = objectOf(item);
    const key = textOf(setting?.key);
    if (key !== undefined && key.trim() === "") report("empty-value", `/settings/${i}/key`, 'settings key is empty: write the option key, e.g. "tracker-id".');
    if (textOf(setting?.defaultValue) === "") {
      report("empty-value", `/settings/${i}/defaultValue`, `defaultValue of ${key ? show(key) : "this setting"} is empty; the platform requires a value: write the default, e.g. "none".`);
    }
    if (!key) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else report("setting-key-unique", `/settings/${i}/key`, `Setting key ${show(key)} is already defined in settings[${first}]: give each setting its own key.`);
  });
};

/** The permission string a role name most likely meant: itself when it is one, else ROLE_<NAME> in capitals. */
function permissionLike(role: string): string {
  return ROLE_NAME_PATTERN.test(role) ? role : `ROLE_${role.replace(/^role[_-]?/i, "").replace(/[^A-Za-z0-9]+/g, "_").toUpperCase()}`;
}

export const checkRoles: Check = (m, report) => {
  for (const field of ["requiredRoles", "roles"] as const) {
    const list = m[field];
    if (!Array.isArray(list)) continue;
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const role = textOf(item);
      if (role === undefined) return;
      const pointer = `/${field}/${i}`;
      if (role.trim() === "" || /\s/.test(role)) {
        const fix = role.trim() === "" ? "remove it" : `write ${show(permissionLike(role.trim().replace(/\s+/g, "_")))}`;
        report("role-format", pointer, `${show(role)} is not a permission string (no spaces, not empty): ${fix}.`);
        return;
      }
      const first = seen.get(role);
      if (first !== undefined) {
        report("role-duplicate", pointer, `${role} is already listed in ${field}[${first}]: remove this one.`);
        return;
      }
      seen.set(role, i);
      if (!ROLE_NAME_PATTERN.test(role)) {
        report("role-name", pointer, `${show(role)} does not look like a permission (ROLE_<NAME> in capitals): did you mean ${show(permissionLike(role))}?`);
      } else if (field === "roles" && !UI_ROLE_PATTERN.test(role)) {
        report("role-name", pointer, `Custom role ${role} will not appear in the UI's role editor, which shows only roles ending in _READ, _ADMIN or _CREATE.`);
      }
    });
  }
};
