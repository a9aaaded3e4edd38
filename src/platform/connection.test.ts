import { Readable } from "node:stream";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { ExitCode, type CliError } from "../errors.js";
import { Redactor } from "../secrets.js";
import { createPrompter } from "../ui/prompter.js";
import { authorization, normaliseBaseUrl, resolveConnection, type ConnectionOptions } from "./connection.js";

async function resolve(env: Record<string, string>, options: ConnectionOptions = {}, files: { dotenv?: string; stdin?: string } = {}) {
  const redactor = new Redactor();
  const connection = await resolveConnection(options, {
    env,
    dotenv: async () => parseEnv(files.dotenv ?? ""),
    stdin: Readable.from(files.stdin === undefined ? [] : [Buffer.from(files.stdin)]),
    redactor,
    prompter: createPrompter({ interactive: false, yes: false, signal: new AbortController().signal }),
    interactive: false,
  });
  return { connection, redactor };
}

async function rejection(promise: Promise<unknown>): Promise<CliError> {
  return (await promise.then(
    () => expect.fail("expected a failure"),
    (e: unknown) => e,
  )) as CliError;
}

describe("resolveConnection (spec/cli.md, Platform connection)", () => {
  it("reads C8Y_HOST, C8Y_TENANT, C8Y_USER and C8Y_PASSWORD and registers the password", async () => {
    const { connection, redactor } = await resolve({ C8Y_HOST: "https://t1.example.com/", C8Y_TENANT: "t1", C8Y_USER: "ci", C8Y_PASSWORD: "pa55word!" });
    expect(connection.baseUrl.toString()).toBe("https://t1.example.com/");
    expect(connection.tenant).toBe("t1");
    expect(connection.credentials).toEqual({ kind: "basic", user: "ci", password: "pa55word!" });
    expect(connection.source.principal).toBe("t1/ci");
    expect(connection.source.names).toEqual(["C8Y_USER (environment)", "C8Y_PASSWORD (environment)", "C8Y_TENANT (environment)"]);
    expect(redactor.redact("pw pa55word!")).toBe("pw ***");
  });

  it("accepts the aliases C8Y_BASEURL, C8Y_URL and C8Y_USERNAME, and a tenant in the user name", async () => {
    const { connection } = await resolve({ C8Y_BASEURL: "example.com", C8Y_USERNAME: "t7/dev", C8Y_PASSWORD: "secret" });
    expect(connection.baseUrl.href).toBe("https://example.com/");
    expect(connection.tenant).toBe("t7");
    expect(connection.credentials).toMatchObject({ user: "dev" });
    const url = await resolve({ C8Y_URL: "http://127.0.0.1:8111", C8Y_USER: "u", C8Y_PASSWORD: "p12" });
    expect(url.connection.baseUrl.href).toBe("http://127.0.0.1:8111/");
  });

  it("prefers flags over the environment and the environment over .env", async () => {
    const dotenv = "C8Y_HOST=https://from-dotenv.example.com\nC8Y_USER=dotenv-user\nC8Y_PASSWORD='dotenv pass'\nC8Y_TENANT=t3\n";
    const { connection } = await resolve({ C8Y_USER: "env-user" }, { url: "https://flag.example.com" }, { dotenv });
    expect(connection.baseUrl.host).toBe("flag.example.com");
    expect(connection.credentials).toEqual({ kind: "basic", user: "env-user", password: "dotenv pass" });
    expect(connection.source.names).toEqual(["C8Y_USER (environment)", "C8Y_PASSWORD (.env)", "C8Y_TENANT (.env)"]);
  });

  it("uses C8Y_TOKEN instead of a password from the same layer, and registers it", async () => {
    const { connection, redactor } = await resolve({ C8Y_HOST: "https://x.example.com", C8Y_USER: "u", C8Y_PASSWORD: "pw-env", C8Y_TOKEN: "tok.en.value" });
    expect(connection.credentials).toEqual({ kind: "bearer", token: "tok.en.value" });
    expect(authorization(connection.credentials, undefined)).toBe("Bearer tok.en.value");
    expect(redactor.redact("tok.en.value")).toBe("***");
  });

  it("--password-stdin wins over a token and drops the newline echo adds", async () => {
    const { connection, redactor } = await resolve({ C8Y_HOST: "https://x.example.com", C8Y_USER: "u", C8Y_TOKEN: "tok.en.value" }, { passwordStdin: true }, { stdin: "from-stdin\n" });
    expect(connection.credentials).toEqual({ kind: "basic", user: "u", password: "from-stdin" });
    expect(redactor.redact("from-stdin")).toBe("***");
  });

  it("an empty stdin with --password-stdin is an auth error", async () => {
    const error = await rejection(resolve({ C8Y_HOST: "https://x.example.com", C8Y_USER: "u" }, { passwordStdin: true }, { stdin: "" }));
    expect(error.exitCode).toBe(ExitCode.Auth);
  });

  it("missing credentials without a terminal is exit 4 naming the variables", async () => {
    const error = await rejection(resolve({ C8Y_HOST: "https://x.example.com", C8Y_USER: "u" }));
    expect(error.exitCode).toBe(ExitCode.Auth);
    expect(error.message).toBe("No credentials for x.example.com: C8Y_PASSWORD is not set.");
    expect(error.hint).toContain("C8Y_TOKEN");
  });

  it("a missing URL without a terminal is a usage error naming the flag and variable", async () => {
    const error = await rejection(resolve({ C8Y_USER: "u", C8Y_PASSWORD: "pw1" }));
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.hint).toContain("--url (or set C8Y_HOST)");
  });
});

describe("normaliseBaseUrl", () => {
  it.each([
    ["example.cumulocity.com", "https://example.cumulocity.com/"],
    ["https://example.cumulocity.com///", "https://example.cumulocity.com/"],
    ["https://example.cumulocity.com/apps/cockpit/index.html#/group", "https://example.cumulocity.com/"],
    ["https://example.cumulocity.com/?x=1", "https://example.cumulocity.com/"],
    ["http://127.0.0.1:8111", "http://127.0.0.1:8111/"],
    ["https://proxy.example.com/c8y/", "https://proxy.example.com/c8y"],
  ])("%s -> %s", (input, expected) => {
    expect(normaliseBaseUrl(input).href).toBe(expected);
  });

  it.each([["ftp://example.com"], ["https://user:pw@example.com"], ["http://"]])("refuses %s as a usage error", (input) => {
    let error: CliError | undefined;
    try {
      normaliseBaseUrl(input);
    } catch (e) {
      error = e as CliError;
    }
    expect(error?.exitCode).toBe(ExitCode.Usage);
  });
});
