import { createHash } from "node:crypto";
import { chmod, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A unix socket path must fit sun_path (108 bytes on Linux, 104 on macOS), with room to spare. */
const MAX_SOCKET_PATH = 100;
const LONGEST_SOCKET_NAME = "/ffffffff.65535.sock".length;

/**
 * The sandbox's private working files while it runs services: each instance's launcher and
 * environment file (its passwords), and the unix sockets of the relays. Readable only by the
 * sandbox's user (0700); emptied when the sandbox starts and removed when it stops, so nothing
 * of a crashed run stays. Sockets move to a short directory under the system's temporary
 * directory when the data directory's path is too long for them.
 */
export class RunDirectory {
  readonly path: string;
  readonly socketsPath: string;

  private constructor(path: string, socketsPath: string) {
    this.path = path;
    this.socketsPath = socketsPath;
  }

  static async open(dataDir: string): Promise<RunDirectory> {
    const path = join(dataDir, "run");
    const socketsPath = path.length + LONGEST_SOCKET_NAME <= MAX_SOCKET_PATH ? path : join(tmpdir(), `c8y-ms-${createHash("sha256").update(dataDir).digest("hex").slice(0, 10)}`);
    const directory = new RunDirectory(path, socketsPath);
    await directory.remove();
    for (const dir of new Set([path, socketsPath])) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    return directory;
  }

  /** Where the relays reach the sandbox's API. */
  get apiSocket(): string {
    return join(this.socketsPath, "api.sock");
  }

  /** One instance's files, mounted read-only into its container: 0755 inside the private directory. */
  async instanceDir(key: string): Promise<string> {
    const dir = join(this.path, key);
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    return dir;
  }

  socket(key: string, port: number): string {
    return join(this.socketsPath, `${key}.${port}.sock`);
  }

  async removeInstance(key: string, ports: Iterable<number>): Promise<void> {
    await rm(join(this.path, key), { recursive: true, force: true });
    for (const port of ports) await rm(this.socket(key, port), { force: true });
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
    await rm(this.socketsPath, { recursive: true, force: true });
  }
}
