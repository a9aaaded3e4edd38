import { CommanderError } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { recordFigure } from "../test/helpers/figures.js";
import { ARGV_PROPERTY_RUNS, argv, SECRET } from "../test/hostile/argv.js";
import { createProgram } from "./cli.js";
import { CliError, ExitCode } from "./errors.js";
import { toReportable } from "./main.js";

/**
 * Any command line (issue 18): parsing it either reaches a command with its options or ends
 * in a usage error (exit 2) or help/version, never in another exception; and a secret typed
 * as a flag value is never echoed. Command bodies do not run here: the spawned sample in
 * test/hostile-cli.test.ts runs them.
 */
async function parse(args: string[]): Promise<{ ran: string | undefined; error: unknown; output: string }> {
  let ran: string | undefined;
  let output = "";
  const program = createProgram({
    version: "0.0.0-test",
    run: async (_body, globals, command) => {
      expect(typeof globals.json).toBe("boolean");
      ran = command;
    },
    writeOut: (text) => (output += text),
    writeErr: (text) => (output += text),
  });
  try {
    await program.parseAsync(args, { from: "user" });
    return { ran, error: undefined, output };
  } catch (error) {
    return { ran, error: toReportable(error, args, program), output };
  }
}

describe("any command line parses to a command, help, or a usage error (property)", () => {
  it(`${ARGV_PROPERTY_RUNS} generated command lines`, async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        tried++;
        const { ran, error, output } = await parse(args);
        if (error === undefined) {
          expect(ran).toBeDefined();
          return;
        }
        expect(error).not.toHaveProperty("unexpected");
        if ("silent" in (error as object)) return;
        expect(error).toBeInstanceOf(CliError);
        const usage = error as CliError;
        expect(usage.exitCode).toBe(ExitCode.Usage);
        expect(usage.message.length).toBeGreaterThan(0);
        expect(usage.hint).toMatch(/^(c8y-ms takes no password|Usage: c8y-ms)/);
        expect(`${usage.message}\n${usage.hint}\n${output}`).not.toContain(SECRET);
      }),
      { numRuns: ARGV_PROPERTY_RUNS },
    );
    recordFigure("generated-inputs", tried);
  }, 120_000);

  it("maps commander's own errors, and only those, to usage errors", () => {
    const program = createProgram({ version: "0", run: async () => {}, writeOut: () => {}, writeErr: () => {} });
    expect(toReportable(new CommanderError(1, "commander.unknownOption", "error: unknown option '--x'"), ["--x"], program)).toBeInstanceOf(CliError);
    expect(toReportable(new RangeError("boom"), [], program)).toEqual({ unexpected: new RangeError("boom") });
  });
});
