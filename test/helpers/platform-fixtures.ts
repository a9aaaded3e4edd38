import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** test/fixtures/platform: responses of real tenants and vendor documentation, listed in SOURCES.tsv. */
export const PLATFORM_FIXTURES = fileURLToPath(new URL("../fixtures/platform/", import.meta.url));

/** A recorded JSON response by its path under test/fixtures/platform, e.g. "inventory/status-object.json". */
export function platformFixture<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, `file://${PLATFORM_FIXTURES}`), "utf8")) as T;
}
