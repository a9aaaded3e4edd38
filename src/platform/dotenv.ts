import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "../errors.js";

/**
 * The `KEY=VALUE` lines of a `.env` file as most tools write them: `#` comments, an optional
 * `export `, single or double quotes (double quotes understand \n, \" and \\), and inline
 * comments after unquoted values. Lines that are not assignments are ignored.
 */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
    if (!match) continue;
    const [, key = "", rest = ""] = match;
    values[key] = parseValue(rest);
  }
  return values;
}

function parseValue(rest: string): string {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = closingQuote(rest, quote);
    if (end > 0) {
      const inner = rest.slice(1, end);
      return quote === "'" ? inner : inner.replace(/\\([n"\\])/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
  }
  return rest.replace(/\s+#.*$/, "").trim();
}

function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\" && quote === '"') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** `.env` in `dir`, or an empty set when there is none. */
export async function readDotenv(dir: string): Promise<Record<string, string>> {
  const path = join(dir, ".env");
  try {
    return parseDotenv(await readFile(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return {};
    throw new CliError(`Could not read ${path} (${code ?? String(error)}).`, { hint: "Make the file readable, or remove it and set the C8Y_* variables in the environment." });
  }
}
