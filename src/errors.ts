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
  DOCKERFILE_UNSUPPORTED: { exitCode: ExitCode.Validation, meaning: "--engine none: the Dockerfile asks for a step that needs a container engine (the message names its line)." },
  NATIVE_CODE_FOREIGN: { exitCode: ExitCode.Validation, meaning: "--engine none: compiled code in the image is not x86-64 Linux (the message names the files)." },
  REGISTRY_ERROR: { exitCode: ExitCode.Failure, meaning: "The base image's registry could not be reached or answered with an error." },
  REGISTRY_AUTH: { exitCode: ExitCode.Auth, meaning: "The base image's registry refused access (401/403)." },
  DIGEST_MISMATCH: { exitCode: ExitCode.Failure, meaning: "A base image blob does not match its digest (damaged on the way or in the cache)." },
  SOURCE_CHANGED: { exitCode: ExitCode.Failure, meaning: "A file changed while it was copied into the image." },
  INTERRUPTED: { exitCode: ExitCode.Interrupted, meaning: "Ctrl-C, or a prompt was cancelled; after SIGTERM the exit code is 143." },
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

/** The user pressed Ctrl-C, or a prompt was aborted. main.ts exits 143 instead when the signal was SIGTERM. */
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

/** The system or undici code of a failed request, looking through wrappers and AggregateErrors. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const e = current as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof e.code === "string" && e.code !== "UND_ERR_REQ_RETRY") return e.code;
    current = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors[0] : e.cause;
  }
  return undefined;
}
