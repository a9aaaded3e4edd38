import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, test } from "vitest";
import { shellQuote } from "../src/exec.js";
import { spawnCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * The prompts as a person meets them: the built CLI runs in a pseudo-terminal made by
 * util-linux `script`, and each step types real keystrokes once the expected text is on screen.
 */
type Step = [waitFor: string, keys: string];

const ENTER = "\r";
const DOWN = "\x1b[B";
const CLEAR_LINE = "\x15";
const CTRL_C = "\x03";

interface TerminalRun {
  exitCode: number | null;
  /** Everything shown, without colours and cursor movements. */
  screen: string;
}

function runInTerminal(args: string[], cwd: string, steps: Step[]): Promise<TerminalRun> {
  // No CI variable: this is a person at a terminal.
  const { child, result } = spawnCli(args, {
    cwd,
    env: { TERM: "xterm-256color", CI: undefined },
    interactive: true,
    wrap: (command) => ["script", ["--quiet", "--flush", "--return", "--command", command.map(shellQuote).join(" "), "/dev/null"]],
  });
  let raw = "";
  let searchFrom = 0;
  let next = 0;
  const pending = [...steps];
  const decoder = new StringDecoder("utf8");
  child.stdout!.on("data", (chunk: Buffer) => {
    raw += decoder.write(chunk);
    // Each step waits for its text to appear after the previous step's, then types.
    while (next < pending.length) {
      const [waitFor, keys] = pending[next]!;
      const screen = stripVTControlCharacters(raw);
      const at = screen.indexOf(waitFor, searchFrom);
      if (at < 0) break;
      searchFrom = at + waitFor.length;
      child.stdin!.write(keys);
      next++;
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return result.then(({ exitCode }) => {
    clearTimeout(timer);
    const screen = stripVTControlCharacters(raw).replaceAll("\r\n", "\n");
    if (next < pending.length) throw new Error(`never saw ${JSON.stringify(pending[next]![0])} on screen:\n${screen}`);
    return { exitCode, screen };
  });
}

describe("init in a terminal", () => {
  test("asks for each answer, rejects a bad name and a bad role as they are typed, and scaffolds", async () => {
    const cwd = await tempDir();
    const run = await runInTerminal(["init", "--no-install", "--no-git"], cwd, [
      ["Microservice name", `My Service${ENTER}`],
      ["may contain only lowercase letters, digits and dashes", `${CLEAR_LINE}tracker${ENTER}`],
      ["Template", `${DOWN}${ENTER}`],
      ["Isolation", `${DOWN}${ENTER}`],
      ["Required roles", `ROLE INVENTORY READ${ENTER}`],
      ["is not a permission string", `${CLEAR_LINE}ROLE_INVENTORY_READ, ROLE_ALARM_ADMIN${ENTER}`],
      ["Provider (your company)", `${CLEAR_LINE}Example Ltd.${ENTER}`],
    ]);
    expect(run.exitCode, run.screen).toBe(0);
    expect(run.screen).toContain("✔ Template Python");
    expect(run.screen).toContain("✔ Isolation Per tenant: one deployment for each subscribed tenant");
    expect(run.screen).toContain("✔ Created 18 files in ./tracker");
    expect(run.screen).toContain("  cd tracker\n");
    const manifest = JSON.parse(await readFile(join(cwd, "tracker", "cumulocity.json"), "utf8"));
    expect(manifest).toMatchObject({
      name: "tracker",
      isolation: "PER_TENANT",
      requiredRoles: ["ROLE_INVENTORY_READ", "ROLE_ALARM_ADMIN"],
      provider: { name: "Example Ltd." },
    });
  });

  test("offers the directory's name as the default name and skips the questions the flags answered", async () => {
    const cwd = await tempDir();
    const run = await runInTerminal(["init", "gateway-probe", "--template", "dockerfile", "--isolation", "MULTI_TENANT", "--no-git"], cwd, [
      ["Microservice name (gateway-probe)", ENTER],
      ["Required roles", ENTER],
      ["Provider (your company) (My Company)", ENTER],
    ]);
    expect(run.exitCode, run.screen).toBe(0);
    expect(run.screen).not.toContain("? Template");
    expect(run.screen).not.toContain("? Isolation");
    const manifest = JSON.parse(await readFile(join(cwd, "gateway-probe", "cumulocity.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "gateway-probe", isolation: "MULTI_TENANT", provider: { name: "My Company" }, requiredRoles: [] });
  });

  test("asks before adding files to a directory that is not empty; no leaves it untouched (exit 130)", async () => {
    const cwd = await tempDir({ "svc/notes.txt": "mine" });
    const run = await runInTerminal(["init", "svc", "--name", "svc", "--template", "python", "--isolation", "MULTI_TENANT", "--required-roles", "", "--provider", "P"], cwd, [
      ["./svc is not empty. Add the template's files anyway? Existing files are kept.", `n${ENTER}`],
    ]);
    expect(run.exitCode, run.screen).toBe(130);
    expect(run.screen).toContain("✖ Nothing was written: ./svc is not empty.");
    expect(await readdir(join(cwd, "svc"))).toEqual(["notes.txt"]);
  });

  test("Ctrl-C at a prompt ends with exit 130 and creates nothing", async () => {
    const cwd = await tempDir();
    const run = await runInTerminal(["init", "svc"], cwd, [["Microservice name", CTRL_C]]);
    expect(run.exitCode, run.screen).toBe(130);
    expect(run.screen).toContain("✖ Cancelled at the prompt.");
    expect(await readdir(cwd)).toEqual([]);
  });
});
