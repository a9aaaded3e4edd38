import type { ExitCode } from "./errors.js";

/**
 * What a command hands back to main.ts. `data` is the command's JSON document (spec/cli.md,
 * "JSON results"); `line` is the result printed on stdout without --json.
 */
export interface CommandResult {
  /** undefined when the command already wrote its document (a server prints it once it is ready). */
  data: unknown;
  /** A function when the text costs something to make (validate's list of problems): called only without --json. */
  line?: string | (() => string) | undefined;
  /** Set by report-style commands (validate) that fail without throwing. */
  exitCode?: ExitCode | undefined;
}
