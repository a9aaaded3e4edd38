import type { Exec } from "./exec.js";
import { createExec } from "./exec.js";
import { readDotenv } from "./fs/dotenv.js";
import type { Redactor } from "./secrets.js";
import { createColors } from "./ui/color.js";
import { createLogger, type Logger } from "./ui/logger.js";
import { createProgressFactory, type ProgressFactory } from "./ui/progress.js";
import { createPrompter, type Prompter } from "./ui/prompter.js";

export type Env = Readonly<Record<string, string | undefined>>;

/** Global flags of spec/cli.md, shared by every command. */
export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  yes: boolean;
}

/**
 * Everything a command may touch outside its own arguments. Core modules take the slice
 * they need (`Pick<Context, "exec" | "logger">`), so each signature states its side effects.
 */
export interface Context {
  cwd: string;
  env: Env;
  /** The `.env` file of the working directory (empty when there is none), read when first asked for. */
  dotenv(): Promise<Env>;
  /** c8y-ms's own version, for the user agent. */
  version: string;
  logger: Logger;
  progress: ProgressFactory;
  prompter: Prompter;
  exec: Exec;
  redactor: Redactor;
  /** True when we may prompt: stdin and stderr are terminals and CI is not set. */
  interactive: boolean;
  options: GlobalOptions;
  /** Aborted on Ctrl-C; long operations pass it on and clean up. */
  signal: AbortSignal;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
}

export interface ProcessLike {
  cwd(): string;
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export function isInteractive(proc: ProcessLike): boolean {
  const ci = proc.env.CI;
  const inCi = ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
  return Boolean(proc.stdin.isTTY) && Boolean(proc.stderr.isTTY) && !inCi;
}

export interface ContextOptions {
  options: GlobalOptions;
  proc: ProcessLike;
  signal: AbortSignal;
  redactor: Redactor;
  version: string;
}

export function createContext({ options, proc, signal, redactor, version }: ContextOptions): Context {
  const colors = createColors(proc.env, !options.color);
  const quiet = options.quiet && !options.verbose;
  const logger = createLogger({ stream: proc.stderr, colors, redactor, verbose: options.verbose, quiet });
  const interactive = isInteractive(proc);
  const cwd = proc.cwd();
  let dotenv: Promise<Env> | undefined;
  return {
    cwd,
    env: proc.env,
    dotenv: () => (dotenv ??= readDotenv(cwd)),
    version,
    logger,
    progress: createProgressFactory({ stream: proc.stderr, redactor, quiet }),
    prompter: createPrompter({ interactive, yes: options.yes, signal }),
    exec: createExec(logger),
    redactor,
    interactive,
    options,
    signal,
    stdin: proc.stdin,
    stdout: proc.stdout,
  };
}
