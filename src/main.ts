import { readFileSync } from "node:fs";
import { createProgram, usageErrorOf, type RunCommand } from "./cli.js";
import type { Context } from "./context.js";
import { CliError, ExitCode, UsageError } from "./errors.js";
import { Redactor } from "./secrets.js";

/**
 * How long a command may take to clean up after Ctrl-C or SIGTERM before we exit anyway, so a
 * signal is honoured within a second whatever is running. Half-written files and scratch
 * directories are removed by the exit hook of fs/atomic.ts even then; child processes got
 * their SIGTERM from the aborted signal already.
 */
const CANCEL_GRACE_MS = 1000;

/**
 * Commands whose clean-up waits on others: the sandbox removes the containers it started
 * (`rm -f` each), init removes the project it created once npm or git has stopped.
 */
const SHUTDOWN_GRACE_MS: Readonly<Record<string, number>> = { sandbox: 15_000, init: 10_000 };

const SIGNAL_EXIT_CODES = { SIGINT: ExitCode.Interrupted, SIGTERM: ExitCode.Terminated } as const;

interface Outcome {
  exitCode: number;
}

/**
 * The only place that ends the process. Builds the context, runs the command, prints its
 * result, and maps every error to one message, a hint and the documented exit code.
 */
export async function main(argv: string[]): Promise<void> {
  const controller = new AbortController();
  // Known before any argument is parsed, so even a usage error cannot echo them.
  const redactor = new Redactor();
  redactor.add(process.env.C8Y_PASSWORD);
  redactor.add(process.env.C8Y_TOKEN);
  let ctx: Context | undefined;
  const wantsJson = argv.includes("--json");

  let interrupts = 0;
  let grace = CANCEL_GRACE_MS;
  let signalExitCode: number = ExitCode.Interrupted;
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    interrupts++;
    if (interrupts === 1) signalExitCode = SIGNAL_EXIT_CODES[signal];
    controller.abort();
    if (interrupts > 1) process.exit(signalExitCode);
    setTimeout(() => {
      const message = `${signal === "SIGTERM" ? "Terminated" : "Interrupted"}: stopped without waiting for the command to finish.`;
      if (wantsJson) process.stdout.write(`${JSON.stringify({ error: { code: "INTERRUPTED", message, hint: null } }, null, 2)}\n`);
      process.stderr.write(redactor.redact(`✖ ${message}\n`));
      process.exit(signalExitCode);
    }, grace).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A reader that went away (`c8y-ms ... | head`) is not the command's failure: the rest of the
  // output has nowhere to go, and the exit code still tells what happened.
  process.stdout.on("error", ignoreOutputError);
  process.stderr.on("error", ignoreOutputError);

  const pkg = readPackage();
  const run: RunCommand = async (body, globals, command) => {
    grace = SHUTDOWN_GRACE_MS[command] ?? CANCEL_GRACE_MS;
    const { createContext } = await import("./context.js");
    ctx = createContext({ options: globals, proc: process, signal: controller.signal, redactor, version: pkg.version });
    const result = await body(ctx);
    // `data: undefined`: the command printed its document itself (sandbox prints it when ready).
    if (globals.json && result.data !== undefined) ctx.stdout.write(`${ctx.redactor.redact(JSON.stringify(result.data, null, 2))}\n`);
    else if (result.line !== undefined) ctx.stdout.write(`${ctx.redactor.redact(typeof result.line === "function" ? result.line() : result.line)}\n`);
    if (result.exitCode !== undefined) outcome.exitCode = result.exitCode;
  };

  const outcome: Outcome = { exitCode: ExitCode.Ok };
  const program = createProgram({
    version: pkg.version,
    run,
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  });

  try {
    await program.parseAsync(argv, { from: "user" });
    if (controller.signal.aborted) outcome.exitCode = signalExitCode;
  } catch (caught) {
    const error = controller.signal.aborted && !(caught instanceof CliError) ? new CliError("Interrupted.") : caught;
    outcome.exitCode = report(toReportable(error, argv, program), { json: ctx?.options.json ?? wantsJson, ctx, redactor, pkg });
    if (controller.signal.aborted) outcome.exitCode = signalExitCode;
  }
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(outcome.exitCode);
}

export type Reportable = CliError | { unexpected: unknown } | { silent: true };

/** What main reports for an error: CliErrors as they are, commander's as usage errors (exit 2), anything else as a bug. */
export function toReportable(error: unknown, argv: string[], program: Parameters<typeof usageErrorOf>[2]): Reportable {
  if (error instanceof CliError) return error;
  const usage = usageErrorOf(error, argv, program);
  if (usage === "silent") return { silent: true };
  return usage ?? { unexpected: error };
}

interface ReportOptions {
  json: boolean;
  ctx: Context | undefined;
  redactor: Redactor;
  pkg: PackageInfo;
}

function report(error: Reportable, { json, ctx, redactor, pkg }: ReportOptions): number {
  if ("silent" in error) return ExitCode.Ok;
  const clean = (text: string) => redactor.redact(text);
  const debug = Boolean(ctx?.options.verbose) || process.env.C8Y_MS_DEBUG === "1";

  let code: string;
  let message: string;
  let hint: string | undefined;
  let exitCode: number;
  let stack: string | undefined;
  if (error instanceof CliError) {
    ({ code, message, hint, exitCode } = error);
    if (debug) stack = error.stack;
  } else {
    const unexpected = error.unexpected;
    code = "UNEXPECTED";
    message = `Unexpected error: ${unexpected instanceof Error ? unexpected.message : String(unexpected)}`;
    hint = bugReportHint(pkg, debug);
    exitCode = ExitCode.Failure;
    if (debug && unexpected instanceof Error) stack = unexpected.stack;
  }

  if (json) {
    process.stdout.write(`${clean(JSON.stringify({ error: { code, message, hint: hint ?? null } }, null, 2))}\n`);
  }
  const colors = ctx?.logger.colors;
  const red = (t: string) => (colors ? colors.red(t) : t);
  const dim = (t: string) => (colors ? colors.dim(t) : t);
  process.stderr.write(clean(`${red(`✖ ${message}`)}\n`));
  if (hint) process.stderr.write(clean(`${hint.split("\n").map((l) => `  ${l}`).join("\n")}\n`));
  if (stack) process.stderr.write(clean(`${dim(stack)}\n`));
  return exitCode;
}

export interface PackageInfo {
  version: string;
  /** Where bugs are reported: package.json `bugs` (a URL, or `{url}`), when it names one. */
  bugs: string | undefined;
}

function readPackage(): PackageInfo {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string; bugs?: string | { url?: string } };
  return { version: pkg.version, bugs: typeof pkg.bugs === "string" ? pkg.bugs : pkg.bugs?.url };
}

/** As changesets does for an internal error: the versions a maintainer needs, and where to tell them. */
export function bugReportHint(pkg: PackageInfo, debug: boolean): string {
  const versions = `c8y-ms ${pkg.version}, Node.js ${process.version}, ${process.platform} ${process.arch}`;
  const where = pkg.bugs ? `at ${pkg.bugs}` : "to the maintainers of c8y-ms";
  const details = debug ? "the output above" : "the output of the same command run again with --verbose";
  return `This is a bug in c8y-ms (${versions}). Please report it ${where}, with the command you ran and ${details}.`;
}

function flush(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    // A destroyed stream (its reader went away) never drains.
    if (stream.destroyed || stream.write("")) return resolve();
    stream.once("drain", () => resolve());
    stream.once("close", () => resolve());
  });
}

function ignoreOutputError(): void {}
