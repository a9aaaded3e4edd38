/** Exit codes are a contract with users' scripts (spec/cli.md, "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Validation: 3,
  Auth: 4,
  /** SIGINT (Ctrl-C): 128 + 2, as shells report it. */
  Interrupted: 130,
  /** SIGTERM (a CI job cancelled, `kill`, `docker stop`): 128 + 15. */
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * An error the user can act on: its message and hint are shown verbatim, without a stack.
 * Anything that is not a CliError is a bug in c8y-ms and is reported as unexpected.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode = ExitCode.Failure;
  /** Stable machine-readable name, part of the `--json` error shape. */
  readonly code: string = "FAILED";
  readonly hint: string | undefined;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flag, bad argument, or a required value missing where we may not prompt. */
export class UsageError extends CliError {
  override readonly exitCode = ExitCode.Usage;
  override readonly code: string = "USAGE";
}

/** A manifest, zip or image did not pass checks. */
export class ValidationError extends CliError {
  override readonly exitCode = ExitCode.Validation;
  override readonly code: string = "VALIDATION_FAILED";
}

/** Credentials missing, rejected (401) or not allowed (403). */
export class AuthError extends CliError {
  override readonly exitCode = ExitCode.Auth;
  override readonly code: string = "AUTH_FAILED";
}

/** The user pressed Ctrl-C, or a prompt was aborted. main.ts exits 143 instead when the signal was SIGTERM. */
export class CancelledError extends CliError {
  override readonly exitCode = ExitCode.Interrupted;
  override readonly code: string = "INTERRUPTED";

  constructor(message = "Interrupted.", options: CliErrorOptions = {}) {
    super(message, options);
  }
}

/** A missing value in non-interactive mode: names the flag or variable that supplies it. */
export class MissingInputError extends UsageError {
  override readonly code = "MISSING_INPUT";

  constructor(what: string, supply: string) {
    super(`Missing ${what}.`, {
      hint: `Pass ${supply}; c8y-ms does not prompt without a terminal or when CI is set.`,
    });
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}
