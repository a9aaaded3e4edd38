import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { Queryable } from "./database.js";
import type { Json } from "./documents.js";

/**
 * Tenant options (c8y-docs "Tenant options", OpenAPI Options): category/key/value tuples.
 * A key with the `credentials.` prefix holds a secret: the platform encrypts its value and
 * answers everyone but the microservice the category belongs to with the encrypted value as
 * hex (a recording of GET /tenant/options/{category}/credentials.*: cumulocity-python-api
 * tests/model/tenant_option.json; docs/platform-evidence.md §10). The sandbox encrypts it too
 * (AES-256-GCM, keyed from the data directory's secret in the 0600 state.json), so neither the
 * database files nor any answer to others hold it in plain text.
 */

export const ENCRYPTED_PREFIX = "credentials.";
const SEALED = "sealed:";

export interface OptionRow {
  category: string;
  key: string;
  value: string;
}

export function isEncryptedKey(key: string): boolean {
  return key.startsWith(ENCRYPTED_PREFIX);
}

function cipherKey(secret: string): Buffer {
  return createHash("sha256").update(`tenant-options:${secret}`).digest();
}

export function seal(value: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", cipherKey(secret), iv);
  const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return SEALED + Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64");
}

export function unseal(stored: string, secret: string): string {
  if (!stored.startsWith(SEALED)) return stored;
  const raw = Buffer.from(stored.slice(SEALED.length), "base64");
  const decipher = createDecipheriv("aes-256-gcm", cipherKey(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/** Creates or replaces the option (a POST of an existing key updates it). */
export async function putOption(db: Queryable, tenant: string, option: OptionRow, secret: string): Promise<void> {
  const value = isEncryptedKey(option.key) ? seal(option.value, secret) : option.value;
  await db.query(
    `insert into tenant_options (tenant, category, key, value) values ($1, $2, $3, $4)
     on conflict (tenant, category, key) do update set value = excluded.value`,
    [tenant, option.category, option.key, value],
  );
}

export async function findOption(db: Queryable, tenant: string, category: string, key: string): Promise<OptionRow | undefined> {
  const { rows } = await db.query<OptionRow>(`select category, key, value from tenant_options where tenant = $1 and category = $2 and key = $3`, [tenant, category, key]);
  return rows[0];
}

export async function optionsOf(db: Queryable, tenant: string, category?: string, window?: { limit: number; offset: number }): Promise<OptionRow[]> {
  const page = window ? ` limit ${window.limit} offset ${window.offset}` : "";
  const { rows } = await db.query<OptionRow>(
    `select category, key, value from tenant_options where tenant = $1 and ($2::text is null or category = $2) order by category, key${page}`,
    [tenant, category ?? null],
  );
  return rows;
}

export async function countOptions(db: Queryable, tenant: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(`select count(*)::int as count from tenant_options where tenant = $1`, [tenant]);
  return rows[0]?.count ?? 0;
}

/** @returns whether the option existed */
export async function deleteOption(db: Queryable, tenant: string, category: string, key: string): Promise<boolean> {
  const result = await db.query(`delete from tenant_options where tenant = $1 and category = $2 and key = $3`, [tenant, category, key]);
  return (result.affectedRows ?? 0) > 0;
}

/** The sealed value as the platform shows an encrypted one: hex. */
export function ciphertext(stored: string): string {
  return Buffer.from(stored.slice(SEALED.length), "base64").toString("hex");
}

/** The value a caller sees: a secret in plain text only for the category's own microservice. */
export function visibleValue(row: OptionRow, secret: string, ownCategory: string | undefined): string {
  if (!isEncryptedKey(row.key)) return row.value;
  return ownCategory === row.category ? unseal(row.value, secret) : ciphertext(row.value);
}

export function optionJson(row: OptionRow, value: string, baseUrl: string): Json {
  return { category: row.category, key: row.key, value, self: `${baseUrl}/tenant/options/${encodeURIComponent(row.category)}/${encodeURIComponent(row.key)}` };
}
