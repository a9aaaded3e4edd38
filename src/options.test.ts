import { describe, expect, it } from "vitest";
import { createProgram } from "./cli.js";
import { OPTION_SCHEMAS, parseOptions, type CommandName } from "./options.js";

/** The program with commands that do nothing: what is left is commander's parsing. */
function program() {
  return createProgram({ version: "0.0.0", run: async () => {}, writeOut: () => {}, writeErr: () => {} });
}

/** Every flag a command declares, set: the schema must accept all of them, typed. */
const FULL: Record<CommandName, string[]> = {
  init: ["svc", "-t", "node", "--list-templates", "-n", "svc", "--isolation", "PER_TENANT", "--required-roles", "ROLE_A", "--provider", "P", "--force", "--no-install", "--no-git"],
  validate: ["x", "--strict"],
  build: [".", "--engine", "podman", "--build-arg", "A=1", "--no-cache", "--tag", "t:1"],
  pack: [".", "--engine", "docker", "--build-arg", "A=1", "--no-cache", "--tag", "t:1", "-o", "x.zip", "--image", "i:1", "--image-tar", "i.tar", "--compression-level", "9", "--size-limit", "1000", "--force"],
  deploy: [".", "--url", "http://h", "--tenant", "t1", "--user", "u", "--password-stdin", "--compression-level", "0", "--no-subscribe", "--subscribe-tenant", "t2", "--dry-run", "--wait", "--timeout", "60"],
  subscribe: ["svc", "t1", "--url", "http://h", "--tenant", "t1", "--user", "u", "--password-stdin"],
  unsubscribe: ["svc", "--url", "http://h"],
  delete: ["svc", "--user", "u"],
  status: ["svc", "--tenant", "t1"],
  sandbox: ["-p", "0", "--data-dir", "d", "--no-containers", "--engine", "docker", "--network", "publish", "--faults", "--upload-limit", "10"],
  doctor: ["--engine", "podman", "--url", "http://h"],
};

describe("command options (src/options.ts)", () => {
  const names = Object.keys(OPTION_SCHEMAS) as CommandName[];

  it("has a schema for every command cli.ts declares, and no other", () => {
    expect(program().commands.map((c) => c.name()).sort()).toEqual([...names].sort());
  });

  it.each(names)("%s: its defaults and every flag set parse", async (name) => {
    const defaults = program().commands.find((c) => c.name() === name)!;
    expect(() => parseOptions(name, defaults.opts())).not.toThrow();
    const full = program();
    await full.parseAsync([name, ...FULL[name]], { from: "user" });
    expect(() => parseOptions(name, full.commands.find((c) => c.name() === name)!.opts())).not.toThrow();
  });

  it("gives typed values: numbers, lists and the --no- flags", async () => {
    const full = program();
    await full.parseAsync(["deploy", ...FULL.deploy], { from: "user" });
    const options = parseOptions("deploy", full.commands.find((c) => c.name() === "deploy")!.opts());
    expect(options).toMatchObject({ compressionLevel: 0, subscribe: false, subscribeTenant: ["t2"], timeout: 60, dryRun: true, buildArg: [], cache: true });
  });

  it("treats a mismatch with cli.ts as the bug it is", () => {
    expect(() => parseOptions("validate", { strict: true, extra: 1 })).toThrow(/^The options of `validate` do not match their declaration in cli\.ts: /);
  });
});
