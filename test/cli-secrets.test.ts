import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * The suite's one CLI launcher fails a test when a run leaks the password or token: here it is
 * pointed at a stand-in that leaks on purpose, each way a leak can happen.
 */
/** With a slash and a space, so its URL-encoded form differs from it. */
const PASSWORD = "pw/that must-not-leak";
const env = { C8Y_HOST: "http://127.0.0.1:9", C8Y_TENANT: "t1", C8Y_USER: "admin", C8Y_PASSWORD: PASSWORD };
/** Runs `script` with the CLI's environment instead of the CLI. */
const leaking = (script: string) => ({ wrap: (): [string, string[]] => ["sh", ["-c", script]], standIn: true });

describe("the secret checks of every CLI run", () => {
  it.each([
    ["stdout", 'echo "$C8Y_PASSWORD"'],
    ["stderr", 'echo "password: $C8Y_PASSWORD" >&2'],
    ["a file in the working directory", 'mkdir -p dist && echo "$C8Y_PASSWORD" > dist/leak.log'],
    ["a file in its temporary directory", 'echo "$C8Y_PASSWORD" > "$TMPDIR/request.log"'],
    ["a Basic auth header", 'printf "Authorization: Basic %s" "$(printf "t1/admin:%s" "$C8Y_PASSWORD" | base64)" > trace.txt'],
    ["the URL-encoded form", "node -e 'process.stdout.write(\"GET /x?password=\" + encodeURIComponent(process.env.C8Y_PASSWORD))' > url.txt"],
  ])("fails a run that leaks it to %s", async (_, script) => {
    const cwd = await tempDir();
    await expect(runCli(["deploy"], { cwd, env, ...leaking(script) })).rejects.toThrow(/a secret leaked/);
  });

  it("finds a secret that straddles two reads of a large file", async () => {
    const cwd = await tempDir();
    const script = `node -e 'require("fs").writeFileSync("big.bin", Buffer.concat([Buffer.alloc(4 * 1024 * 1024 - 5), Buffer.from(process.env.C8Y_PASSWORD)]))'`;
    await expect(runCli(["pack"], { cwd, env, ...leaking(script) })).rejects.toThrow(/a secret leaked/);
  });

  it("finds a token, and any extra secret the test names", async () => {
    const cwd = await tempDir();
    await expect(runCli(["status"], { cwd, env: { C8Y_TOKEN: "tok-0123456789" }, ...leaking('echo "$C8Y_TOKEN"') })).rejects.toThrow(/a secret leaked/);
    await expect(runCli(["status"], { cwd, secrets: ["bootstrap-secret"], ...leaking("echo bootstrap-secret > f") })).rejects.toThrow(/a secret leaked/);
  });

  it("passes a clean run, and does not blame it for files the test wrote before", async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, ".env"), `C8Y_PASSWORD=${PASSWORD}\n`);
    const run = await runCli(["deploy"], { cwd, env, ...leaking('echo "deploying as $C8Y_USER" > out.txt') });
    expect(run.exitCode).toBe(0);
  });
});
