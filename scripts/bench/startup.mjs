// Startup: `c8y-ms --version` and `--help` against bare `node -e 0`.
// Goal: within 1.5x of bare Node.js startup.
import { fileURLToPath } from "node:url";
import { compare } from "./measure.mjs";

const CLI = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));

export const name = "startup";

export function run({ runs = 20 } = {}) {
  const node = { command: process.execPath, args: ["-e", "0"] };
  return ["--version", "--help"].map((flag) => {
    const result = compare({ a: { command: process.execPath, args: [CLI, flag] }, b: node, runs, warmup: 3 });
    return {
      entry: `startup ${flag}`,
      reference: "node -e 0",
      ours: `${(result.a.wall * 1000).toFixed(1)} ms`,
      theirs: `${(result.b.wall * 1000).toFixed(1)} ms`,
      ratio: result.timeRatio,
      goal: 1.5,
      extra: `peak ${result.a.peakMiB.toFixed(0)} MiB vs ${result.b.peakMiB.toFixed(0)} MiB`,
    };
  });
}
