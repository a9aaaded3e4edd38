import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { runCli } from "./helpers/cli.js";
import { REPO_ROOT } from "./helpers/paths.js";

const pkg = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")) as { version: string };
const COMMANDS = ["init", "validate", "build", "pack", "deploy", "subscribe", "unsubscribe", "delete", "status", "sandbox", "doctor"];

describe("the command-line frame (spec/cli.md, Global behaviour)", () => {
  it("prints the package version and exits 0", async () => {
    const run = await runCli(["--version"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it("lists every command of the contract in --help", async () => {
    const run = await runCli(["--help"]);
    expect(run.exitCode).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    for (const flag of ["--json", "--verbose", "--quiet", "--no-color", "--yes"]) expect(run.stdout).toContain(flag);
  });

  it.each(COMMANDS)("gives `%s --help` with at least one example", async (command) => {
    const run = await runCli([command, "--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Usage: c8y-ms ${command}`);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ c8y-ms /);
  });

  it("rejects an unknown flag with exit 2, naming it, suggesting the near miss and showing the usage", async () => {
    const run = await runCli(["validate", "--strcit"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("Unknown option '--strcit'");
    expect(run.stderr).toContain("Did you mean --strict?");
    expect(run.stderr).toContain("Usage: c8y-ms validate [options] [path]");
    expect(run.stdout).toBe("");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("rejects an unknown command with exit 2 and a suggestion", async () => {
    const run = await runCli(["delpoy"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("Unknown command 'delpoy'");
    expect(run.stderr).toContain("Did you mean deploy?");
  });

  it("rejects a bad option value with exit 2", async () => {
    const run = await runCli(["pack", "--compression-level", "11"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("expected a whole number from 0 to 9");
  });

  it("reports usage errors under --json as one {error:{code,message,hint}} document on stdout", async () => {
    const run = await runCli(["validate", "--strcit", "--json"]);
    expect(run.exitCode).toBe(2);
    const body = run.json<{ error: { code: string; message: string; hint: string } }>();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.code).toBe("USAGE");
    expect(body.error.message).toContain("--strcit");
    expect(body.error.hint).toContain("Usage: c8y-ms validate");
  });

  it.each([["status", "svc", "--password=pw-typed-1"], ["deploy", "--token=pw-typed-1"], ["status", "svc", "--password-stdin=pw-typed-1", "--json"]])(
    "never echoes a password typed as a flag value (%s %s %s), and says how to pass it instead",
    async (...args) => {
      const run = await runCli(args, { secrets: ["pw-typed-1"] });
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/Unknown option '--(password|password-stdin|token)'/);
      expect(run.stderr).toContain("set C8Y_PASSWORD or C8Y_TOKEN, or pipe the password to --password-stdin");
    },
  );

  it("masks C8Y_PASSWORD and C8Y_TOKEN wherever they turn up, even in a usage error or a path", async () => {
    const env = { C8Y_PASSWORD: "env-pw-2", C8Y_TOKEN: "env-token-3" };
    const asPath = await runCli(["deploy", "env-pw-2"], { env });
    expect(asPath.exitCode).toBe(2);
    expect(asPath.stderr).toContain("✖ *** does not exist.");
    const asCommand = await runCli(["env-token-3"], { env });
    expect(asCommand.exitCode).toBe(2);
    expect(asCommand.stderr).toContain("Unknown command '***'");
  });
});
