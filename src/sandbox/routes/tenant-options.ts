import type { Principal } from "../auth.js";
import { requireFields } from "../data/documents.js";
import {
  countOptions,
  deleteOption,
  ciphertext,
  findOption,
  isEncryptedKey,
  optionJson,
  optionsOf,
  putOption,
  seal,
  visibleValue,
  type OptionRow,
} from "../data/tenant-options.js";
import { ApiError, notFound, readJsonObject, sendJson } from "../http.js";
import type { AuthenticatedCall, Route } from "../router.js";
import { ROLES, type SandboxState } from "../state.js";
import { database, sendCollection } from "./data-helpers.js";

const READ = [ROLES.optionRead, ROLES.optionAdmin];
const ADMIN = [ROLES.optionAdmin];

/**
 * The category whose secrets a caller may read in plain text: its application's settings
 * category, which defaults to the context path, then the name (platform.md §1.1).
 */
export function ownSettingsCategory(state: SandboxState, principal: Principal): string | undefined {
  const { user } = principal;
  if (user.kind === "person" || user.application === undefined) return undefined;
  const app = state.applications.find((a) => a.id === user.application);
  if (!app) return undefined;
  const category = app.manifest?.settingsCategory;
  return typeof category === "string" && category !== "" ? category : (app.contextPath ?? app.name);
}

/** The tenant options API (c8y-docs "Tenant options"; roles from the OpenAPI). */
export const tenantOptionRoutes: Route[] = [
  {
    method: "GET",
    path: "/tenant/options",
    access: "user",
    roles: READ,
    handle: async (call) => {
      const db = await database(call);
      await sendCollection(call, "optionCollection", "options", async (window) => ({
        items: (await optionsOf(db, call.principal.tenant, undefined, window)).map((row) => json(call, row)),
        total: window.withTotal ? await countOptions(db, call.principal.tenant) : undefined,
      }));
    },
  },
  {
    method: "POST",
    path: "/tenant/options",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      requireFields(body, ["category", "key", "value"]);
      const option: OptionRow = { category: String(body.category), key: String(body.key), value: String(body.value) };
      await putOption(await database(call), call.principal.tenant, option, call.core.store.state.tokenSecret);
      // OpenAPI PostOptionCollectionResource: "200 An option was created".
      sendJson(call.req, call.res, 200, "option", json(call, option, true));
    },
  },
  {
    method: "GET",
    path: "/tenant/options/:category",
    access: "user",
    roles: READ,
    handle: async (call) => sendJson(call.req, call.res, 200, "option", await categoryMap(call)),
  },
  {
    method: "PUT",
    path: "/tenant/options/:category",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      const db = await database(call);
      const category = call.params.category ?? "";
      await db.transaction(async (tx) => {
        for (const [key, value] of Object.entries(body)) {
          await putOption(tx, call.principal.tenant, { category, key, value: String(value) }, call.core.store.state.tokenSecret);
        }
      });
      sendJson(call.req, call.res, 200, "option", await categoryMap(call));
    },
  },
  {
    method: "GET",
    path: "/tenant/options/:category/:key",
    access: "user",
    roles: READ,
    handle: async (call) => sendJson(call.req, call.res, 200, "option", json(call, await existing(call))),
  },
  {
    method: "PUT",
    path: "/tenant/options/:category/:key",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const body = await readJsonObject(call.req);
      requireFields(body, ["value"]);
      const option: OptionRow = { category: call.params.category ?? "", key: call.params.key ?? "", value: String(body.value) };
      await putOption(await database(call), call.principal.tenant, option, call.core.store.state.tokenSecret);
      sendJson(call.req, call.res, 200, "option", json(call, option, true));
    },
  },
  {
    method: "DELETE",
    path: "/tenant/options/:category/:key",
    access: "user",
    roles: ADMIN,
    handle: async (call) => {
      const { category = "", key = "" } = call.params;
      if (!(await deleteOption(await database(call), call.principal.tenant, category, key))) throw missing(category, key);
      sendJson(call.req, call.res, 204, "option", undefined);
    },
  },
];

/** `plain`: the row was just written and holds the value as sent, not as stored. */
function json(call: AuthenticatedCall, row: OptionRow, plain = false): Record<string, unknown> {
  const own = ownSettingsCategory(call.core.store.state, call.principal);
  const value = plain
    ? isEncryptedKey(row.key) && own !== row.category
      ? ciphertext(seal(row.value, call.core.store.state.tokenSecret))
      : row.value
    : visibleValue(row, call.core.store.state.tokenSecret, own);
  return optionJson(row, value, call.core.baseUrl);
}

async function categoryMap(call: AuthenticatedCall): Promise<Record<string, string>> {
  const rows = await optionsOf(await database(call), call.principal.tenant, call.params.category ?? "");
  const own = ownSettingsCategory(call.core.store.state, call.principal);
  return Object.fromEntries(rows.map((row) => [row.key, visibleValue(row, call.core.store.state.tokenSecret, own)]));
}

function missing(category: string, key: string): ApiError {
  return notFound("options/Not Found", `Unable to find option by given key: ${category}/${key}`);
}

async function existing(call: AuthenticatedCall): Promise<OptionRow> {
  const { category = "", key = "" } = call.params;
  const row = await findOption(await database(call), call.principal.tenant, category, key);
  if (!row) throw missing(category, key);
  return row;
}
