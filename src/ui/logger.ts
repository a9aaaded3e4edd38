import type { ChalkInstance } from "chalk";
import type { Redactor } from "../secrets.js";

export interface Logger {
  /** A step of a longer operation ("Building image"). */
  step(message: string): void;
  info(message: string): void;
  success(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Only with --verbose: commands run, HTTP requests, timings. */
  debug(message: string): void;
  /** Unadorned lines such as tables; suppressed by --quiet like info. */
  plain(text: string): void;
  readonly verbose: boolean;
  readonly colors: ChalkInstance;
}

export interface LoggerOptions {
  stream: NodeJS.WritableStream;
  colors: ChalkInstance;
  redactor: Redactor;
  verbose: boolean;
  quiet: boolean;
}

/** Human output goes to stderr so that stdout stays free for results (spec/cli.md). */
export function createLogger(options: LoggerOptions): Logger {
  const { stream, colors: c, redactor, verbose, quiet } = options;
  const write = (text: string) => stream.write(`${redactor.redact(text)}\n`);
  const unlessQuiet = (text: string) => {
    if (!quiet) write(text);
  };
  return {
    verbose,
    colors: c,
    step: (m) => unlessQuiet(`${c.cyan("›")} ${m}`),
    info: (m) => unlessQuiet(m),
    success: (m) => unlessQuiet(`${c.green("✔")} ${m}`),
    warn: (m) => unlessQuiet(`${c.yellow("⚠")} ${c.yellow(m)}`),
    error: (m) => write(`${c.red("✖")} ${m}`),
    debug: (m) => {
      if (verbose) write(c.dim(m));
    },
    plain: (t) => unlessQuiet(t),
  };
}
