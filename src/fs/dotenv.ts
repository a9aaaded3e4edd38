import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { CliError } from "../errors.js";

/**
 * `.env` in `dir` (empty when there is none), read by Node's own parser, so a file that works
 * with `node --env-file=.env` means the same here: `#` comments, `export `, single, double and
 * back quotes (double quotes expand \\n), values over several lines inside quotes.
 */
export async function readDotenv(dir: string): Promise<NodeJS.Dict<string>> {
  const path = join(dir, ".env");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return {};
    throw new CliError(`Could not read ${path} (${code ?? String(error)}).`, { hint: "Make the file readable, or remove it and set the C8Y_* variables in the environment." });
  }
  return parseEnv(text);
}
