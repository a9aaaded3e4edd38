import type { Redactor } from "../secrets.js";
import { formatBytes, formatDuration } from "../format.js";

export interface Progress {
  /** Adds transferred bytes. */
  advance(bytes: number): void;
  done(summary?: string): void;
  fail(): void;
}

export type ProgressFactory = (label: string, totalBytes?: number) => Progress;

interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  redactor: Redactor;
  quiet: boolean;
  now?: () => number;
}

const REDRAW_INTERVAL_MS = 100;

/**
 * On a terminal, one line redrawn in place with bytes, rate and ETA; elsewhere (CI logs)
 * one line when the step starts and one when it ends.
 */
export function createProgressFactory(options: ProgressOptions): ProgressFactory {
  const { stream, redactor, quiet } = options;
  const now = options.now ?? (() => performance.now());
  const tty = Boolean(stream.isTTY);
  const write = (text: string) => stream.write(redactor.redact(text));

  return (label, totalBytes) => {
    const started = now();
    let transferred = 0;
    let lastDraw = 0;
    let finished = false;
    if (quiet) return { advance: () => {}, done: () => {}, fail: () => {} };
    if (!tty) write(`${label}...\n`);

    const rate = () => transferred / Math.max((now() - started) / 1000, 0.001);
    const draw = () => {
      const figures = [totalBytes ? `${formatBytes(transferred)} / ${formatBytes(totalBytes)}` : formatBytes(transferred)];
      if (totalBytes) figures.push(`${Math.floor((transferred / totalBytes) * 100)}%`);
      figures.push(`${formatBytes(rate())}/s`);
      if (totalBytes && transferred > 0) figures.push(`ETA ${formatDuration(((totalBytes - transferred) / rate()) * 1000)}`);
      write(`\r${fitLine(label, figures.join("  "), (stream.columns ?? 100) - 1)}\x1b[K`);
    };
    const finish = (mark: string, summary?: string) => {
      if (finished) return;
      finished = true;
      const elapsed = now() - started;
      const stats = transferred > 0 ? `${formatBytes(transferred)} in ${formatDuration(elapsed)} (${formatBytes(rate())}/s)` : formatDuration(elapsed);
      const text = `${mark} ${label}: ${summary ?? stats}`;
      write(tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    };
    return {
      advance(bytes) {
        transferred += bytes;
        if (!tty || finished) return;
        const t = now();
        if (t - lastDraw >= REDRAW_INTERVAL_MS) {
          lastDraw = t;
          draw();
        }
      },
      done: (summary) => finish("✔", summary),
      fail: () => finish("✖", "failed"),
    };
  };
}

/** A narrow terminal shortens the label, never the figures (a cut "ETA 346ms" reads as minutes). */
export function fitLine(label: string, figures: string, width: number): string {
  const room = width - figures.length - 2;
  if (label.length <= room) return `${label}  ${figures}`;
  if (room < 2) return figures.slice(0, Math.max(0, width));
  return `${label.slice(0, room - 1)}…  ${figures}`;
}
