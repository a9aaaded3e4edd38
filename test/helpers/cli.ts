import { execa } from "execa";
import { expect } from "vitest";
import { CLI_BIN } from "./paths.js";

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
}

export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Values that must never appear in the output; C8Y_PASSWORD and C8Y_TOKEN are always added. */
  secrets?: string[];
  timeout?: number;
}

/**
 * Runs the built CLI as a user would: no terminal, CI set, colours off. Every run's output is
 * checked for the secrets it was given, so no test can forget that promise.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  // A clean environment: the developer's own C8Y_* variables must not leak into a test.
  const env: Record<string, string | undefined> = { ...baseEnv(), FORCE_COLOR: "0", CI: "true", ...options.env };
  const result = await execa("node", [CLI_BIN, ...args], {
    cwd: options.cwd,
    env,
    extendEnv: false,
    input: options.input ?? "",
    reject: false,
    timeout: options.timeout ?? 600_000,
  });
  const secrets = [...(options.secrets ?? []), env.C8Y_PASSWORD, env.C8Y_TOKEN].filter((s): s is string => Boolean(s && s.length >= 3));
  for (const secret of secrets) {
    expect(result.stdout, "a secret leaked to stdout").not.toContain(secret);
    expect(result.stderr, "a secret leaked to stderr").not.toContain(secret);
  }
  const stdout = String(result.stdout);
  return {
    exitCode: result.exitCode ?? -1,
    stdout,
    stderr: String(result.stderr),
    json: <T,>() => JSON.parse(stdout) as T,
  };
}

/** What a spawned CLI needs from this process to find node, docker, podman and the CA bundle. */
export function baseEnv(): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, NODE_EXTRA_CA_CERTS, DOCKER_HOST } = process.env;
  // Containers on our machines may only use the host network (no bridge, loopback only).
  return { PATH, HOME, TMPDIR, NODE_EXTRA_CA_CERTS, DOCKER_HOST, C8Y_MS_NETWORK: process.env.C8Y_MS_NETWORK ?? "host" };
}
