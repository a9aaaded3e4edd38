import { mkdtempSync, readdirSync, statSync, type Dirent } from "node:fs";
import { open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { expect } from "vitest";
import { recordFigure } from "./figures.js";
import { CLI_BIN } from "./paths.js";

export interface CliRun {
  exitCode: number;
  /** The signal that ended the process, when one did. */
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
}

export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Values that must never appear in the output or in files; C8Y_PASSWORD and C8Y_TOKEN are always added. */
  secrets?: string[];
  timeout?: number;
  /**
   * Runs the CLI through another program, e.g. `script` for a terminal: gets `node <cli> args`
   * and returns the command to start. The secret checks are the same.
   */
  wrap?: (command: string[]) => [string, string[]];
  /** Extra directories the run may write to, scanned like its cwd (the sandbox's data directory). */
  writes?: string[];
  /** Keep stdin open for the test to type into (`child.stdin`), instead of sending `input`. */
  interactive?: boolean;
  /**
   * `wrap` runs something else than the CLI (the tests of these checks leak on purpose): the
   * checks apply, but the run is not counted in the suite's figures.
   */
  standIn?: boolean;
}

/** A CLI process while it runs: signal it, read its streams as they come, await its end. */
export interface CliProcess {
  child: ResultPromise<{ reject: false }>;
  /** The run, after every secret check passed. */
  result: Promise<CliRun>;
}

/**
 * Runs the built CLI as a user would: no terminal, CI set, colours off. Every run passes the
 * secret checks of spawnCli, so no test can forget that promise.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).result;
}

/**
 * Starts the built CLI. Every spawned CLI in the suite goes through here: when it ends, its
 * stdout, its stderr and every file it wrote (under its cwd, under a TMPDIR of its own unless
 * the test gave one, and under `writes`) are checked for the password and token it was given,
 * in plain, URL-encoded and Basic-auth form. A leak fails the test.
 */
export function spawnCli(args: string[], options: RunCliOptions = {}): CliProcess {
  const ownTmp = options.env?.TMPDIR === undefined ? mkdtempSync(join(tmpdir(), "c8y-ms-run-")) : undefined;
  // A clean environment: the developer's own C8Y_* variables must not leak into a test.
  const env: Record<string, string | undefined> = { ...baseEnv(), FORCE_COLOR: "0", CI: "true", ...(ownTmp ? { TMPDIR: ownTmp } : {}), ...options.env };
  const roots = [options.cwd ?? process.cwd(), env.TMPDIR, ...(options.writes ?? [])].filter((r): r is string => Boolean(r));
  // What was there before: only files the run added or changed are its writes.
  const before = snapshot(roots);
  const [command, commandArgs] = options.wrap ? options.wrap(["node", CLI_BIN, ...args]) : ["node", [CLI_BIN, ...args]];
  const child = execa(command, commandArgs, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    ...(options.interactive ? { stdin: "pipe" as const } : { input: options.input ?? "" }),
    reject: false,
    timeout: options.timeout ?? 600_000,
  });
  const result = (async (): Promise<CliRun> => {
    const done = await child;
    const stdout = String(done.stdout);
    const stderr = String(done.stderr);
    try {
      const secrets = secretForms(options.secrets ?? [], env);
      const files = await leaksInFiles(snapshot(roots), before, secrets);
      const leaks = [...leaksIn("stdout", stdout, secrets), ...leaksIn("stderr", stderr, secrets), ...files.leaks];
      if (!options.standIn) {
        recordFigure("cli-runs-checked", 1);
        recordFigure("files-checked", files.checked);
        recordFigure("secrets-leaked", leaks.length);
      }
      expect(leaks, "a secret leaked").toEqual([]);
    } finally {
      if (ownTmp) await rm(ownTmp, { recursive: true, force: true });
    }
    return {
      exitCode: done.exitCode ?? -1,
      signal: done.signal,
      stdout,
      stderr,
      json: <T,>() => JSON.parse(stdout) as T,
    };
  })();
  return { child, result };
}

/** What a spawned CLI needs from this process to find node, docker, podman and the CA bundle. */
export function baseEnv(): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, NODE_EXTRA_CA_CERTS, DOCKER_HOST } = process.env;
  // Containers on our machines may only use the host network (no bridge, loopback only).
  return { PATH, HOME, TMPDIR, NODE_EXTRA_CA_CERTS, DOCKER_HOST, C8Y_MS_NETWORK: process.env.C8Y_MS_NETWORK ?? "host" };
}

/** The secrets as they could be written: as they are, URL-encoded, and inside a Basic auth header. */
function secretForms(extra: string[], env: Record<string, string | undefined>): string[] {
  const password = env.C8Y_PASSWORD;
  const forms = [...extra, password, env.C8Y_TOKEN];
  if (password) {
    forms.push(encodeURIComponent(password));
    const user = env.C8Y_USER ?? "";
    for (const principal of [user, `${env.C8Y_TENANT ?? ""}/${user}`]) forms.push(Buffer.from(`${principal}:${password}`).toString("base64"));
  }
  return [...new Set(forms.filter((s): s is string => Boolean(s && s.length >= 3)))];
}

function leaksIn(where: string, text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => text.includes(secret)).map(() => `${where} holds a secret`);
}

/** Directories never written by a run (and too large to walk every time). */
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

type Snapshot = Map<string, string>;

/**
 * Every file under `roots` with what tells a change: inode, size, modification and change
 * times. Synchronous, so the snapshot before a run is complete before the run starts.
 */
function snapshot(roots: string[]): Snapshot {
  const files: Snapshot = new Map();
  const visit = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) visit(path);
      } else if (entry.isFile() && !files.has(path)) {
        const info = statSync(path, { throwIfNoEntry: false });
        if (info) files.set(path, `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`);
      }
    }
  };
  for (const root of roots) visit(root);
  return files;
}

/** The files that are new or changed in `after`, read in pieces. */
async function leaksInFiles(after: Snapshot, before: Snapshot, secrets: string[]): Promise<{ leaks: string[]; checked: number }> {
  const leaks: string[] = [];
  let checked = 0;
  for (const [path, state] of after) {
    if (before.get(path) === state) continue;
    checked++;
    if (secrets.length > 0 && (await fileContains(path, secrets))) leaks.push(`${path} holds a secret`);
  }
  return { leaks, checked };
}

async function fileContains(path: string, secrets: string[]): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const overlap = Math.max(...secrets.map((s) => Buffer.byteLength(s))) - 1;
    const buffer = Buffer.alloc(4 * 1024 * 1024 + overlap);
    let kept = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, kept, buffer.length - kept, null);
      if (bytesRead === 0) return false;
      const window = buffer.subarray(0, kept + bytesRead);
      if (secrets.some((secret) => window.includes(secret))) return true;
      // The last bytes stay in front of the next read, so a secret across two reads is found.
      kept = Math.min(overlap, window.length);
      window.copy(buffer, 0, window.length - kept);
    }
  } finally {
    await handle.close();
  }
}
