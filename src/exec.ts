import { execa } from "execa";
import { CancelledError, CliError } from "./errors.js";
import type { Logger } from "./ui/logger.js";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Text or stream fed to the process' stdin. */
  input?: string | NodeJS.ReadableStream;
  /** Called for every line the process writes, as it writes it. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Keep stdout in memory and return it (default true). Large outputs should go to a file instead. */
  captureStdout?: boolean;
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The last lines of combined output, for error messages. */
  tail: string[];
}

export interface Exec {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** The program could not be started at all (not installed, not on PATH). */
export class CommandNotFoundError extends CliError {
  override readonly code = "COMMAND_NOT_FOUND";
  readonly command: string;
  constructor(command: string) {
    super(`\`${command}\` was not found on PATH.`);
    this.command = command;
  }
}

/** The program ran and exited with a non-zero status. */
export class CommandFailedError extends CliError {
  override readonly code = "COMMAND_FAILED";
  readonly command: string;
  readonly args: readonly string[];
  readonly status: number | undefined;
  readonly tail: readonly string[];
  constructor(command: string, args: readonly string[], status: number | undefined, tail: readonly string[]) {
    const shown = [command, ...args.slice(0, 1)].join(" ");
    super(`\`${shown}\` failed${status === undefined ? "" : ` with exit code ${status}`}.`);
    this.command = command;
    this.args = args;
    this.status = status;
    this.tail = tail;
  }
}

const TAIL_LINES = 20;

/**
 * Children still running. An aborted signal sends them SIGTERM, and SIGKILL three seconds
 * later; if c8y-ms exits before that (main.ts stops waiting after a signal), they get their
 * SIGKILL now, so no engine build or save outlives the command.
 */
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
let exitHooked = false;

function trackChild(child: { kill(signal: NodeJS.Signals): boolean }): void {
  running.add(child);
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const c of running) c.kill("SIGKILL");
  });
}

/** The only module that starts processes; everything else receives an Exec. */
export function createExec(logger: Pick<Logger, "debug">): Exec {
  return {
    async run(command, args, options = {}) {
      logger.debug(`$ ${[command, ...args].map(shellQuote).join(" ")}`);
      const tail: string[] = [];
      const remember = (line: string, stream: "stdout" | "stderr") => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        logger.debug(`  ${line}`);
        options.onLine?.(line, stream);
      };
      const capture = options.captureStdout ?? true;
      const child = execa(command, [...args], {
        cwd: options.cwd,
        env: options.env,
        extendEnv: true,
        input: typeof options.input === "string" ? options.input : undefined,
        stdin: options.input !== undefined && typeof options.input !== "string" ? "pipe" : "ignore",
        stdout: "pipe",
        stderr: "pipe",
        buffer: false,
        reject: false,
        cancelSignal: options.signal,
        forceKillAfterDelay: 3000,
      });
      trackChild(child);
      if (options.input !== undefined && typeof options.input !== "string") options.input.pipe(child.stdin!);

      // execa decodes and splits the output: a line never ends inside a UTF-8 character,
      // however the bytes were chunked. Newlines are kept so captured stdout is exact.
      const stdoutLines: string[] = [];
      const stderrLines: string[] = [];
      const collect = async (stream: "stdout" | "stderr", sink: string[], keep: boolean) => {
        for await (const line of child.iterable({ from: stream, preserveNewlines: true })) {
          if (keep) sink.push(line);
          // A progress bar redraws its line with bare carriage returns: each redraw is a line of its own.
          for (const part of line.replace(/\r?\n$/, "").split("\r")) remember(part, stream);
        }
      };
      const [result] = await Promise.all([child, collect("stdout", stdoutLines, capture), collect("stderr", stderrLines, true)]).finally(() => running.delete(child));

      if (result.isCanceled || options.signal?.aborted) throw new CancelledError();
      const notFound = (result.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
      if (notFound) throw new CommandNotFoundError(command);
      if (result.failed) throw new CommandFailedError(command, args, result.exitCode, tail);
      return { stdout: stdoutLines.join(""), stderr: stderrLines.join(""), tail };
    },
  };
}

/** A process that keeps running beside us (a helper, not a command that finishes). */
export interface StartedProcess {
  /** Settles when the process ends, with its exit code (undefined when a signal ended it). */
  exited: Promise<number | undefined>;
  /** Asks it to end (SIGTERM); it is killed if it has not after three seconds. */
  stop(): void;
}

/**
 * Starts `command` and leaves it running. Its stdin stays open as a pipe, so the process sees
 * end-of-file when we are gone, however we went, and can end itself. Every line it writes goes
 * to `onLine` and to --verbose.
 */
export function startProcess(
  logger: Pick<Logger, "debug">,
  command: string,
  args: readonly string[],
  onLine: (line: string, stream: "stdout" | "stderr") => void,
): StartedProcess {
  logger.debug(`$ ${[command, ...args].map(shellQuote).join(" ")} &`);
  const child = execa(command, [...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false, forceKillAfterDelay: 3000 });
  const follow = async (stream: "stdout" | "stderr") => {
    for await (const line of child.iterable({ from: stream })) {
      logger.debug(`  ${line}`);
      onLine(line, stream);
    }
  };
  const following = Promise.all([follow("stdout"), follow("stderr")]);
  return {
    exited: Promise.all([child, following]).then(([result]) => result.exitCode),
    stop: () => void child.kill("SIGTERM"),
  };
}

/** An argument as a POSIX shell reads it back: bare when safe, single-quoted otherwise. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
