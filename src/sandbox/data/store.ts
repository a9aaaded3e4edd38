import { ChangeFeed } from "./change-feed.js";
import { openDatabase, type Database } from "./database.js";

/**
 * The sandbox's data: the database, opened on the first data request (a sandbox that only
 * deploys starts as fast as one without it), and the feed of its changes.
 */
export class DataStore {
  readonly dataDir: string;
  readonly feed = new ChangeFeed();
  #opening: Promise<Database> | undefined;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  database(): Promise<Database> {
    if (!this.#opening) {
      const opening = openDatabase(this.dataDir);
      // A failed open is tried again by the next request, not remembered forever.
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
      this.#opening = opening;
    }
    return this.#opening;
  }

  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    const db = await opening?.catch(() => undefined);
    await db?.close();
  }
}
