import { spawn } from "node:child_process";
import { chmod, cp, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { tempPathFor, discardTemp } from "../../fs/atomic.js";
import { SCHEMA } from "./schema.js";

/**
 * The sandbox's data (managed objects, measurements, events, alarms, operations, options,
 * notification subscriptions) lives in PGlite: Postgres compiled to WebAssembly, installed
 * from npm with no native build and no server process, persisted in `<dataDir>/db`.
 * docs/sandbox.md says why it was chosen and what it costs.
 */

export type Queryable = Pick<PGlite | Transaction, "query">;

export interface Database extends Queryable {
  /** Runs `work` in one transaction: all of it lands or none (a collection create, a cascade). */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const DATABASE_DIR = "db";

/**
 * Postgres' default of 128 MB shared buffers would double the sandbox's memory; 8 MB keeps
 * the whole sandbox under 300 MB while a million measurements stay indexed (npm run bench).
 */
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=8MB"];

/** Opens (and on first use creates) the database of `dataDir` and brings its schema up to date. */
export async function openDatabase(dataDir: string): Promise<Database> {
  const dir = join(dataDir, DATABASE_DIR);
  if (!(await exists(dir))) await createFromTemplate(dir);
  const db = await PGlite.create(dir, { startParams: START_PARAMS });
  await db.exec(SCHEMA);
  return {
    query: (sql, params, options) => db.query(sql, params, options),
    transaction: (work) => db.transaction((tx) => work(tx)),
    close: () => db.close(),
  };
}

/**
 * initdb takes seconds and about 700 MB, and the memory of a WebAssembly instance is never
 * given back. So it runs once per machine and PGlite version, in a child process, into a
 * template under the user's cache directory; each new data directory gets a copy (tens of
 * milliseconds). Both the template and the copy appear by rename: never half-written.
 */
async function createFromTemplate(target: string): Promise<void> {
  const template = await ensureTemplate();
  const temp = tempPathFor(target);
  try {
    await cp(template, temp, { recursive: true });
    // The database holds the tenants' data; like state.json it is the owner's alone.
    await chmod(temp, 0o700);
    await rename(temp, target);
  } finally {
    await discardTemp(temp);
  }
}

async function ensureTemplate(): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
  const { version } = JSON.parse(await readFile(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string };
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const template = join(cache, "c8y-ms", `pglite-${version}`);
  if (await exists(template)) return template;
  await mkdir(dirname(template), { recursive: true });
  const temp = tempPathFor(template);
  try {
    await runInitdb(entry, temp);
    try {
      await rename(temp, template);
    } catch (error) {
      // Another sandbox made the template at the same time: theirs is as good as ours.
      if (!(await exists(template))) throw error;
    }
  } finally {
    await discardTemp(temp);
  }
  return template;
}

const INITDB = `
const [entry, dir] = process.argv.slice(1);
const { PGlite } = await import(entry);
const db = await PGlite.create(dir);
await db.close();
`;

function runInitdb(entry: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", INITDB, new URL(`file://${entry}`).href, dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`Creating the sandbox database failed (exit ${code}): ${stderr.trim().slice(-2000)}`));
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
