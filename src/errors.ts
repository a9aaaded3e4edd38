/** Exit codes are a contract with users' scripts (spec/cli.md, "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Validation: 3,
  Auth: 4,
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every `code` an error can carry: the stable, machine-readable name in the `--json` error
 * document (`{"error": {"code", "message", "hint"}}`, spec/cli.md), and the exit code it ends
 * with. Scripts match on both, so this is a contract: add codes, never rename or reuse one.
 * Each CliError subclass names its code (the type allows no other) and its exit code follows
 * from here; README.md lists them (test/readme.test.ts keeps the two in step).
 */
export const ERROR_CODES = {
  FAILED: { exitCode: ExitCode.Failure, meaning: "The operation failed; the message says how." },
  UNEXPECTED: { exitCode: ExitCode.Failure, meaning: "A bug in c8y-ms: the hint asks for a report and gives the versions." },
  USAGE: { exitCode: ExitCode.Usage, meaning: "A bad flag or argument." },
  MISSING_INPUT: { exitCode: ExitCode.Usage, meaning: "A required value is missing and c8y-ms may not prompt (no terminal, or CI is set)." },
  MANIFEST_NOT_FOUND: { exitCode: ExitCode.Usage, meaning: "The path does not exist, or has no cumulocity.json, .yaml or .yml." },
  VALIDATION_FAILED: { exitCode: ExitCode.Validation, meaning: "A manifest, zip or image did not pass its checks." },
  MANIFEST_INVALID: { exitCode: ExitCode.Validation, meaning: "The manifest has errors; the hint lists the first ones." },
  IMAGE_INVALID: { exitCode: ExitCode.Validation, meaning: "The image cannot run on the platform (format, architecture, digests)." },
  ZIP_INVALID: { exitCode: ExitCode.Validation, meaning: "The file is not a zip the platform can read." },
  ZIP_TOO_LARGE: { exitCode: ExitCode.Validation, meaning: "The zip would exceed the upload limit." },
  TAR_INVALID: { exitCode: ExitCode.Validation, meaning: "The image archive is not a readable tar." },
  AUTH_FAILED: { exitCode: ExitCode.Auth, meaning: "Credentials are missing, rejected (401) or lack a role (403)." },
  PLATFORM_ERROR: { exitCode: ExitCode.Failure, meaning: "The platform answered with an error status." },
  NETWORK_ERROR: { exitCode: ExitCode.Failure, meaning: "The platform (or the proxy in between) could not be reached." },
  APPLICATION_NOT_FOUND: { exitCode: ExitCode.Failure, meaning: "This tenant owns no microservice of that name." },
  SERVICE_NOT_UP: { exitCode: ExitCode.Failure, meaning: "deploy --wait: the service did not report Up in time." },
  ENGINE_UNAVAILABLE: { exitCode: ExitCode.Failure, meaning: "No container engine (docker or podman) answers." },
  ENGINE_FAILED: { exitCode: ExitCode.Failure, meaning: "The container engine failed a build, save or inspect." },
  COMMAND_NOT_FOUND: { exitCode: ExitCode.Failure, meaning: "A program c8y-ms runs is not on PATH." },
  COMMAND_FAILED: { exitCode: ExitCode.Failure, meaning: "A program c8y-ms runs exited with an error." },
  INTERRUPTED: { exitCode: ExitCode.Interrupted, meaning: "Ctrl-C, or a prompt was cancelled." },
} as const satisfies Record<string, { exitCode: ExitCode; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CliErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * An error the user can act on: its message and hint are shown verbatim, without a stack.
 * Anything that is not a CliError is a bug in c8y-ms and is reported as unexpected.
 */
export class CliError extends Error {
  /** Stable machine-readable name, part of the `--json` error shape. */
  readonly code: ErrorCode = "FAILED";
  readonly hint: string | undefined;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }

  /** The documented exit code of this error's code. */
  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exitCode;
  }
}

/** Bad flag, bad argument, or a required value missing where we may not prompt. */
export class UsageError extends CliError {
  override readonly code: ErrorCode = "USAGE";
}

/** A manifest, zip or image did not pass checks. */
export class ValidationError extends CliError {
  override readonly code: ErrorCode = "VALIDATION_FAILED";
}

/** Credentials missing, rejected (401) or not allowed (403). */
export class AuthError extends CliError {
  override readonly code: ErrorCode = "AUTH_FAILED";
}

/** The user pressed Ctrl-C, or a prompt was aborted. */
export class CancelledError extends CliError {
  override readonly code: ErrorCode = "INTERRUPTED";

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
