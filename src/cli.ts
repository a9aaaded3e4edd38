import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { UsageError } from "./errors.js";
import type { Context, GlobalOptions } from "./context.js";
import type { CommandName, CommandOptions } from "./options.js";
import type { CommandResult } from "./result.js";

/**
 * Every commander declaration lives here; command bodies are imported only when they run,
 * so `--help` and `--version` load nothing but commander.
 */
export type RunCommand = (body: (ctx: Context) => Promise<CommandResult>, globals: GlobalOptions, command: string) => Promise<void>;

export interface ProgramOptions {
  version: string;
  run: RunCommand;
  /** Where commander prints help and version. */
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
}

export function createProgram({ version, run, writeOut, writeErr }: ProgramOptions): Command {
  const program = new Command("c8y-ms")
    .description("Scaffold, validate, pack and deploy Cumulocity IoT microservices.")
    .version(version, "-V, --version", "print the c8y-ms version")
    .option("--json", "print the result as one JSON document on stdout")
    .option("--verbose", "show commands run and HTTP requests (secrets redacted)")
    .option("-q, --quiet", "print only errors")
    .option("--no-color", "disable colour (also NO_COLOR)")
    .option("-y, --yes", "accept every default and confirmation without asking")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    // main.ts reports usage errors itself, in the same shape as every other error.
    .configureOutput({ writeOut, writeErr, outputError: () => {} })
    .exitOverride();

  /** Runs `body` with the command's options parsed by its schema (src/options.ts) and its positional arguments. */
  const action =
    <K extends CommandName, A extends unknown[]>(name: K, body: (ctx: Context, options: CommandOptions[K], ...args: A) => Promise<CommandResult>) =>
    async (...args: unknown[]) => {
      // commander passes the positional arguments, then the options, then the command.
      const command = args[args.length - 1] as Command;
      const all = command.optsWithGlobals();
      const globals: GlobalOptions = {
        json: Boolean(all.json),
        verbose: Boolean(all.verbose),
        quiet: Boolean(all.quiet),
        color: all.color !== false,
        yes: Boolean(all.yes),
      };
      const positional = args.slice(0, -2) as A;
      await run(async (ctx) => {
        const { parseOptions } = await import("./options.js");
        return body(ctx, parseOptions(name, command.opts()), ...positional);
      }, globals, command.name());
    };

  const declare = (name: string, description: string, examples: string[]) =>
    program
      .command(name)
      .description(description)
      .addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);

  declare("init", "scaffold a microservice from a template", [
    "c8y-ms init my-service",
    "c8y-ms init my-service --template python --isolation PER_TENANT --yes",
    "c8y-ms init --list-templates",
  ])
    .argument("[dir]", "directory to create (default: the service name)")
    .option("-t, --template <id>", "template to use (see --list-templates)")
    .option("--list-templates", "list the available templates and exit")
    .option("-n, --name <name>", "microservice name (a-z, 0-9, -; at most 23 characters)")
    .addOption(new Option("--isolation <isolation>", "tenant isolation").choices(["MULTI_TENANT", "PER_TENANT"]))
    .option("--required-roles <roles>", "comma-separated roles the service user needs, e.g. ROLE_INVENTORY_READ")
    .option("--provider <name>", "provider (company) name for the manifest")
    .option("--force", "scaffold into a non-empty directory (existing files are never overwritten)")
    .option("--no-install", "skip npm install")
    .option("--no-git", "skip git init")
    .action(
      action("init", async (ctx, options, dir: string | undefined) => (await import("./commands/init.js")).init(dir, options, ctx)),
    );

  declare("validate", "check a manifest, a project directory or a built zip", [
    "c8y-ms validate",
    "c8y-ms validate path/to/cumulocity.yaml --strict",
    "c8y-ms validate dist/my-service-1.0.0.zip --json",
  ])
    .argument("[path]", "project directory, manifest file or .zip", ".")
    .option("--strict", "treat warnings as errors")
    .action(
      action("validate", async (ctx, options, path: string) => (await import("./commands/validate.js")).validate(path, options, ctx)),
    );

  addBuildOptions(
    declare("build", "build the container image for linux/amd64", [
      "c8y-ms build",
      "c8y-ms build ./service --build-arg BASE_IMAGE=node:22-alpine --no-cache",
    ]).argument("[dir]", "project directory", "."),
  ).action(
    action("build", async (ctx, options, dir: string) => (await import("./commands/build.js")).build(dir, options, ctx)),
  );

  addPackOptions(
    addBuildOptions(
      declare("pack", "validate, build, save and zip the service for upload", [
        "c8y-ms pack",
        "c8y-ms pack --image my-service:1.0.0 --output my-service.zip",
        "c8y-ms pack --image-tar image.tar --compression-level 9",
      ]).argument("[dir]", "project directory", "."),
    ),
  ).action(
    action("pack", async (ctx, options, dir: string) => (await import("./commands/pack.js")).pack(dir, options, ctx)),
  );

  addConnectionOptions(
    addPackOptions(
      addBuildOptions(
        declare("deploy", "pack, upload and subscribe the service", [
          "c8y-ms deploy",
          "c8y-ms deploy dist/my-service-1.0.0.zip --wait",
          "c8y-ms deploy --subscribe-tenant t100 --subscribe-tenant t200 --dry-run",
        ]).argument("[target]", "project directory or built .zip", "."),
      ),
    ),
  )
    .option("--no-subscribe", "do not subscribe the current tenant")
    .option("--subscribe-tenant <id>", "also subscribe this tenant (repeatable)", collect, [])
    .option("--dry-run", "print the plan without changing anything")
    .option("--wait", "wait until the service reports Up")
    .option("--timeout <seconds>", "how long --wait waits", positiveInteger, 300)
    .action(
      action("deploy", async (ctx, options, target: string) => (await import("./commands/deploy.js")).deploy(target, options, ctx)),
    );

  addConnectionOptions(
    declare("subscribe", "subscribe tenants to a microservice", ["c8y-ms subscribe my-service", "c8y-ms subscribe my-service t100 t200"]),
  )
    .argument("<name>", "application name")
    .argument("[tenants...]", "tenant ids (default: the current tenant)")
    .action(
      action("subscribe", async (ctx, options, name: string, tenants: string[]) => (await import("./commands/subscribe.js")).subscribe(name, tenants, options, ctx)),
    );

  addConnectionOptions(
    declare("unsubscribe", "unsubscribe tenants from a microservice", ["c8y-ms unsubscribe my-service", "c8y-ms unsubscribe my-service t100"]),
  )
    .argument("<name>", "application name")
    .argument("[tenants...]", "tenant ids (default: the current tenant)")
    .action(
      action("unsubscribe", async (ctx, options, name: string, tenants: string[]) => (await import("./commands/subscribe.js")).unsubscribe(name, tenants, options, ctx)),
    );

  addConnectionOptions(declare("delete", "delete a microservice application", ["c8y-ms delete my-service", "c8y-ms delete my-service --yes"]))
    .argument("<name>", "application name")
    .action(
      action("delete", async (ctx, options, name: string) => (await import("./commands/delete.js")).deleteApplication(name, options, ctx)),
    );

  addConnectionOptions(declare("status", "show application, version, subscriptions and instance status", ["c8y-ms status my-service", "c8y-ms status my-service --json"]))
    .argument("<name>", "application name")
    .action(
      action("status", async (ctx, options, name: string) => (await import("./commands/status.js")).status(name, options, ctx)),
    );

  declare("sandbox", "start a local Cumulocity platform sandbox", [
    "c8y-ms sandbox",
    "c8y-ms sandbox --port 8111 --data-dir .c8y-ms/sandbox",
    "c8y-ms sandbox --no-containers",
  ])
    .option("-p, --port <port>", "port on 127.0.0.1 (0 picks a free one)", port, 8111)
    .option("--data-dir <dir>", "where the sandbox keeps its state", ".c8y-ms/sandbox")
    .option("--no-containers", "accept uploads but do not run them")
    .addOption(new Option("--engine <engine>", "container engine that runs services, or none (as --no-containers)").choices(["docker", "podman", "none"]).env("C8Y_MS_ENGINE"))
    .addOption(
      new Option("--network <mode>", "how services are reached: isolated (only through the sandbox; Linux, as root), host, or publish a port")
        .choices(["auto", "isolated", "host", "publish"])
        .default("auto"),
    )
    .option("--faults", "enable the fault-injection endpoint (for tests)")
    .option("--upload-limit <bytes>", "largest accepted upload in bytes (default: the platform's 500 MB)", byteCount)
    .action(
      action("sandbox", async (ctx, options) => (await import("./commands/sandbox.js")).sandbox(options, ctx)),
    );

  addConnectionOptions(declare("doctor", "check Node.js, the container engine and the platform connection", ["c8y-ms doctor", "c8y-ms doctor --json"]))
    .addOption(new Option("--engine <engine>", "container engine, or none (builds without one)").choices(["docker", "podman", "none"]).env("C8Y_MS_ENGINE"))
    .action(
      action("doctor", async (ctx, options) => (await import("./commands/doctor.js")).doctor(options, ctx)),
    );

  return program;
}

function addBuildOptions(command: Command): Command {
  return command
    .addOption(new Option("--engine <engine>", "container engine, or none to build without one (default: the first found, else none)").choices(["docker", "podman", "none"]).env("C8Y_MS_ENGINE"))
    .option("--build-arg <key=value>", "build argument (repeatable)", buildArg, [])
    .option("--no-cache", "build without the layer cache")
    .option("--tag <tag>", "image tag (default: <name>:<version>)");
}

function addPackOptions(command: Command): Command {
  return command
    .option("-o, --output <file>", "zip to write (default: dist/<name>-<version>.zip)")
    .option("--image <ref>", "pack an existing local image instead of building")
    .option("--image-tar <file>", "pack an image saved by docker/podman save")
    .option("--compression-level <level>", "deflate level 0 (store) to 9", compressionLevel, 6)
    .option("--size-limit <bytes>", "largest zip to write (default: the platform's 500 MiB, 524288000)", byteCount)
    .option("--force", "pack again even when nothing changed");
}

function addConnectionOptions(command: Command): Command {
  return command
    .option("--url <url>", "platform base URL (env C8Y_HOST)")
    .option("--tenant <id>", "tenant id (env C8Y_TENANT; looked up when missing)")
    .option("--user <name>", "user name (env C8Y_USER)")
    .option("--password-stdin", "read the password from stdin (else env C8Y_PASSWORD)");
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function buildArg(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) throw new InvalidArgumentError("expected KEY=VALUE.");
  return [...previous, value];
}

function integerIn(min: number, max: number, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
  return number;
}

function port(value: string): number {
  return integerIn(0, 65535, value);
}

function positiveInteger(value: string): number {
  return integerIn(1, 86_400, value);
}

function byteCount(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || !Number.isSafeInteger(number)) throw new InvalidArgumentError("expected a number of bytes, e.g. 2000000000.");
  return number;
}

function compressionLevel(value: string): number {
  return integerIn(0, 9, value);
}

/**
 * Commander's own errors in the shape of every other error: a usage error (exit 2) naming the
 * command's usage, or "silent" for help and version, which commander printed already.
 * Anything else is not commander's: undefined.
 */
export function usageErrorOf(error: unknown, argv: readonly string[], program: Command): UsageError | "silent" | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return "silent";
  const sub = program.commands.find((c) => c.name() === argv.find((a) => !a.startsWith("-")));
  const usage = sub ? `c8y-ms ${sub.name()} ${sub.usage()}` : `c8y-ms ${program.usage()}`;
  // `--password=...` typed by mistake: name the option, never echo its value.
  const message = error.message.replace(/^error:\s*/, "").replace(/\s*\n\s*/g, " ").replace(/'(--?[^'=\s]+)=[^']*'/g, "'$1'");
  const help = `Usage: ${usage}\nRun \`c8y-ms ${sub ? `${sub.name()} ` : ""}--help\` for every option.`;
  const secretFlag = error.code === "commander.unknownOption" && /pass|token|secret/i.test(message);
  return new UsageError(capitalize(message), {
    hint: secretFlag
      ? `c8y-ms takes no password or token as a flag (shell history and CI logs keep them): set C8Y_PASSWORD or C8Y_TOKEN, or pipe the password to --password-stdin.\n${help}`
      : help,
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
