import type { LogsDocument } from "./runtime.js";

/** platform.md §4.2 and [DOC-QUOTAS]: logs retained per container. */
const LOG_LIMIT_BYTES = 35 * 1024 * 1024;

export interface LogRange {
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
}

/** `logs` of one container between two times, both streams, with timestamps to merge them by. */
export function logsArgs(containerId: string, range: LogRange, now = new Date()): string[] {
  const args = ["logs", "--timestamps", "--until", range.dateTo ?? now.toISOString()];
  if (range.dateFrom) args.push("--since", range.dateFrom);
  return [...args, containerId];
}

/** The logs endpoint's document (platform.md §3.3 #18) from what `logs` printed. */
export function logsDocument(stdout: string, stderr: string, range: LogRange, now = new Date()): LogsDocument {
  return { dateFrom: range.dateFrom ?? new Date(0).toISOString(), dateTo: range.dateTo ?? now.toISOString(), ...mergeLogs(stdout, stderr) };
}

/**
 * Both streams of `logs --timestamps`, in time order, without the timestamps; only the last
 * 35 MB are kept, like the platform.
 */
export function mergeLogs(stdout: string, stderr: string): { logs: string; truncated: boolean } {
  const lines = [...stdout.split("\n"), ...stderr.split("\n")]
    .filter((line) => line !== "")
    .map((line) => {
      const space = line.indexOf(" ");
      const at = space > 0 ? Date.parse(line.slice(0, space)) : Number.NaN;
      return Number.isNaN(at) ? { at: 0, text: line } : { at, text: line.slice(space + 1) };
    })
    // Stable: lines of the same millisecond keep their order within each stream.
    .sort((a, b) => a.at - b.at);
  let logs = lines.map((l) => l.text).join("\n");
  if (logs !== "") logs += "\n";
  if (Buffer.byteLength(logs) <= LOG_LIMIT_BYTES) return { logs, truncated: false };
  return { logs: Buffer.from(logs).subarray(-LOG_LIMIT_BYTES).toString("utf8"), truncated: true };
}
