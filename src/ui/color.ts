import { Chalk, supportsColorStderr, type ChalkInstance } from "chalk";

/**
 * Colour follows the usual conventions: --no-color and NO_COLOR switch it off,
 * FORCE_COLOR switches it on, otherwise it is on when stderr is a colour terminal.
 */
export function createColors(env: Readonly<Record<string, string | undefined>>, noColorFlag: boolean): ChalkInstance {
  if (noColorFlag || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return new Chalk({ level: 0 });
  const forced = env.FORCE_COLOR;
  if (forced !== undefined) {
    if (forced === "0" || forced === "false") return new Chalk({ level: 0 });
    const level = Number(forced);
    return new Chalk({ level: level >= 1 && level <= 3 ? (level as 1 | 2 | 3) : 1 });
  }
  return new Chalk({ level: supportsColorStderr ? supportsColorStderr.level : 0 });
}
