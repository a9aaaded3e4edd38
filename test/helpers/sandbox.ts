import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { join } from "node:path";
import type { FaultRule } from "../../src/sandbox/faults.js";
import { spawnCli } from "./cli.js";

/** One login of the sandbox (TEAM.md part C). */
export interface SandboxUser {
  tenant: string;
  user: string;
  password: string;
}

/** The document `c8y-ms sandbox --json` prints when it is ready. */
export interface SandboxReady {
  url: string;
  dataDir: string;
  containers: boolean;
  faults: boolean;
  uploadLimit: number;
  tenants: { id: string; parent: string | null }[];
  users: (SandboxUser & { role: "admin" | "read-only" | "tfa"; totpSecret?: string })[];
}

/** A fault rule for `PUT /__sandbox/faults` (TEAM.md part C; `*` matches one path segment). */
export type { FaultRule };

export type SandboxLogin = "admin" | "reader" | "tfa";

export interface SandboxFetchInit extends RequestInit {
  /** Basic auth as this user (default admin); `null` sends no credentials. */
  as?: SandboxLogin | SandboxUser | null;
}

export interface SandboxHandle {
  url: string;
  dataDir: string;
  /** The owner tenant's id. */
  owner: string;
  /** The two subtenants of the owner. */
  subtenants: string[];
  admin: SandboxUser;
  reader: SandboxUser;
  /** A user who must pass two-factor authentication: Basic auth answers 401 `TFA TOTP code required`. */
  tfa: SandboxUser & { totpSecret: string };
  /** The admin of each subtenant, by tenant id. */
  subtenantAdmins: Record<string, SandboxUser>;
  ready: SandboxReady;
  /** C8Y_HOST, C8Y_TENANT, C8Y_USER, C8Y_PASSWORD for the built CLI. */
  env(user?: SandboxLogin): Record<string, string>;
  /** `fetch` against the sandbox with Basic auth (`as`), for arranging and checking platform state. */
  fetch(path: string, init?: SandboxFetchInit): Promise<Response>;
  /** What the sandbox wrote on stderr so far (its log; with --verbose every command it ran). */
  stderr(): string;
  setFaults(rules: FaultRule[]): Promise<void>;
  clearFaults(): Promise<void>;
  /** Stops the sandbox (it stops its containers) and removes a data directory it created. */
  stop(): Promise<void>;
  /** Kills the sandbox without letting it clean up, as a crash would; the data directory stays. */
  kill(): Promise<void>;
}

export interface StartSandboxOptions {
  /** Run uploaded services in containers (default false: the tests that need an engine say so). */
  containers?: boolean;
  /** Enable `/__sandbox/faults` (default false). */
  faults?: boolean;
  /** Reuse a data directory (it is kept); by default a fresh one is made and removed by stop(). */
  dataDir?: string;
  /** Extra CLI flags, e.g. ["--upload-limit", "1000000"]. */
  args?: string[];
  env?: Record<string, string>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

const running = new Set<ChildProcess>();
let exitHooked = false;

/**
 * Starts `c8y-ms sandbox --port 0 --json` from the built CLI and resolves once it printed its
 * ready document. Call `stop()` in afterAll.
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<SandboxHandle> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "c8y-ms-sandbox-")));
  const args = ["sandbox", "--port", "0", "--data-dir", dataDir, "--json"];
  if (!options.containers) args.push("--no-containers");
  if (options.faults) args.push("--faults");
  args.push(...(options.args ?? []));

  // Through the suite's one CLI launcher, so the sandbox's output and files get the same secret checks.
  const { child, result } = spawnCli(args, { env: options.env, writes: [dataDir], timeout: 0 });
  running.add(child);
  hookExit();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  const stderrText = new StringDecoder("utf8");
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += stderrText.write(chunk);
  });

  let ready: SandboxReady;
  try {
    ready = await readReadyDocument(child, exited, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    running.delete(child);
    await result.catch(() => undefined);
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  const owner = ready.tenants.find((t) => t.parent === null)?.id ?? "";
  const login = (tenant: string, role: string) => {
    const user = ready.users.find((u) => u.tenant === tenant && u.role === role);
    if (!user) throw new Error(`The sandbox listed no ${role} user in ${tenant}.`);
    return { tenant: user.tenant, user: user.user, password: user.password };
  };
  const subtenants = ready.tenants.filter((t) => t.parent === owner).map((t) => t.id);
  const tfaUser = ready.users.find((u) => u.role === "tfa");
  const handle: SandboxHandle = {
    url: ready.url,
    dataDir,
    owner,
    subtenants,
    admin: login(owner, "admin"),
    reader: login(owner, "read-only"),
    tfa: { ...login(owner, "tfa"), totpSecret: tfaUser?.totpSecret ?? "" },
    subtenantAdmins: Object.fromEntries(subtenants.map((id) => [id, login(id, "admin")])),
    ready,
    env(user = "admin") {
      const chosen = user === "admin" ? handle.admin : user === "reader" ? handle.reader : handle.tfa;
      return { C8Y_HOST: ready.url, C8Y_TENANT: chosen.tenant, C8Y_USER: chosen.user, C8Y_PASSWORD: chosen.password };
    },
    async fetch(path, init = {}) {
      const { as = "admin", ...rest } = init;
      const headers = new Headers(rest.headers);
      if (as !== null) {
        const user = typeof as === "string" ? (as === "admin" ? handle.admin : as === "reader" ? handle.reader : handle.tfa) : as;
        headers.set("authorization", basicAuth(user));
      }
      if (!headers.has("accept")) headers.set("accept", "application/json");
      return fetch(new URL(path, ready.url), { ...rest, headers });
    },
    stderr: () => stderr,
    async setFaults(rules) {
      const response = await fetch(new URL("/__sandbox/faults", ready.url), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rules }),
      });
      if (response.status !== 204) throw new Error(`setFaults failed: ${response.status} ${await response.text()}`);
    },
    async clearFaults() {
      const response = await fetch(new URL("/__sandbox/faults", ready.url), { method: "DELETE" });
      if (response.status !== 204) throw new Error(`clearFaults failed: ${response.status} ${await response.text()}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      await result;
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
      running.delete(child);
    },
  };
  return handle;
}

export function basicAuth(user: SandboxUser): string {
  return `Basic ${Buffer.from(`${user.tenant}/${user.user}:${user.password}`).toString("base64")}`;
}

function readReadyDocument(child: ChildProcess, exited: Promise<number | null>, stderr: () => string): Promise<SandboxReady> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => fail(new Error(`The sandbox was not ready within ${READY_TIMEOUT_MS / 1000}s.`)), READY_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr()}`));
    };
    const stdoutText = new StringDecoder("utf8");
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += stdoutText.write(chunk);
      try {
        const ready = JSON.parse(stdout) as SandboxReady;
        clearTimeout(timer);
        resolve(ready);
      } catch {
        // The document is not complete yet.
      }
    });
    void exited.then((code) => fail(new Error(`The sandbox exited with code ${code} before it was ready.`)));
  });
}

/** A test that crashes must not leave a sandbox (and its containers) behind. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGINT");
  });
}
