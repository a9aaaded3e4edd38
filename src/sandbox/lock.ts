import { readFileSync, unlinkSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "../errors.js";

const LOCK_FILE = "sandbox.pid";

/**
 * One sandbox per data directory: two would overwrite each other's state. The lock holds the
 * pid; a lock whose process is gone (a crash) is taken over.
 * @returns a function that releases the lock (also run when the process exits)
 * @throws {CliError} when a live sandbox holds the directory
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      const onExit = () => releaseSync(path);
      process.once("exit", onExit);
      return async () => {
        process.off("exit", onExit);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (isAlive(holder)) {
        throw new CliError(`Another sandbox (pid ${holder}) is using ${dataDir}.`, {
          hint: "Stop that sandbox first, or start this one with another --data-dir.",
        });
      }
      await rm(path, { force: true });
    }
  }
  throw new CliError(`Could not lock ${dataDir} for the sandbox.`, { hint: `Remove ${path} if no sandbox is running.` });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function releaseSync(path: string): void {
  try {
    if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
