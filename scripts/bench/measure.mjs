// Shared measuring for `npm run bench`: runs a command and its reference tool in turns
// (A B A B ...) so drift of the machine hits both alike, and reports medians and ratios.
// Peak memory comes from GNU time (`/usr/bin/time -f %M`), wall time from perf_hooks.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const GNU_TIME = "/usr/bin/time";

/** Runs one command once; returns wall seconds and peak RSS in MiB and in MB (10^6 bytes, as the goals say). Throws when it fails. */
export function runOnce(command, args, options = {}) {
  const rssFile = join(tmpdir(), `c8y-ms-bench-${process.pid}-${Math.random().toString(16).slice(2)}.rss`);
  const withTime = existsSync(GNU_TIME);
  const [file, argv] = withTime ? [GNU_TIME, ["-f", "%M", "-o", rssFile, command, ...args]] : [command, args];
  options.before?.();
  const started = performance.now();
  const result = spawnSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${String(result.stderr).slice(-2000)}`);
  }
  let peakMiB = Number.NaN;
  if (withTime) {
    peakMiB = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) / 1024;
    rmSync(rssFile, { force: true });
  }
  options.after?.();
  return { wall, peakMiB, peakMB: (peakMiB * 1024 * 1024) / 1e6 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs A and B alternately `runs` times (after `warmup` unmeasured pairs) and returns their
 * medians and the ratio of medians.
 */
export function compare({ a, b, runs = 5, warmup = 1 }) {
  const samples = { a: [], b: [] };
  for (let i = 0; i < warmup + runs; i++) {
    const ra = runOnce(a.command, a.args, a);
    const rb = runOnce(b.command, b.args, b);
    if (i < warmup) continue;
    samples.a.push(ra);
    samples.b.push(rb);
  }
  const summary = (list) => ({ wall: median(list.map((s) => s.wall)), peakMiB: Math.max(...list.map((s) => s.peakMiB)), peakMB: Math.max(...list.map((s) => s.peakMB)) });
  const sa = summary(samples.a);
  const sb = summary(samples.b);
  return { a: sa, b: sb, timeRatio: sa.wall / sb.wall };
}

export function formatRow(cells, widths) {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join("  ");
}
