import { posix } from "node:path";

/**
 * Path patterns as Docker reads them: COPY sources use Go's filepath.Match (`*`, `?`, `[...]`
 * within one path segment), .dockerignore adds `**` for any number of segments and `!` for
 * exceptions (github.com/moby/patternmatcher). Paths are slash-separated, relative to the
 * build context.
 */
export function segmentPattern(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern, false)}$`);
}

export function hasWildcard(text: string): boolean {
  return /[*?[]/.test(text);
}

interface IgnoreRule {
  regex: RegExp;
  exclude: boolean;
}

export interface IgnoreMatcher {
  /** True when `path` (relative to the context, slash-separated) is left out of the context. */
  ignores(path: string): boolean;
  /** Some line starts with `!`: files inside an excluded directory may come back. */
  hasExceptions: boolean;
}

/** The lines of a .dockerignore file. */
export function dockerignore(text: string): IgnoreMatcher {
  const rules: IgnoreRule[] = [];
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const exclude = !line.startsWith("!");
    if (!exclude) line = line.slice(1).trim();
    const cleaned = posix.normalize(line).replace(/^\/+/, "").replace(/\/+$/, "");
    if (cleaned === "" || cleaned === ".") continue;
    rules.push({ regex: new RegExp(`^${translate(cleaned, true)}$`), exclude });
  }
  return {
    hasExceptions: rules.some((r) => !r.exclude),
    ignores(path) {
      // A path is matched by a pattern when it or one of its parent directories is.
      const candidates: string[] = [];
      const parts = path.split("/");
      for (let i = 1; i <= parts.length; i++) candidates.push(parts.slice(0, i).join("/"));
      let ignored = false;
      for (const rule of rules) {
        if (candidates.some((c) => rule.regex.test(c))) ignored = rule.exclude;
      }
      return ignored;
    },
  };
}

function translate(pattern: string, doubleStar: boolean): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      if (doubleStar && pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          out += "(?:.*/)?";
        } else {
          out += ".*";
        }
      } else {
        out += "[^/]*";
      }
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (char === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[++i]!);
    } else {
      out += escapeRegExp(char);
    }
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
