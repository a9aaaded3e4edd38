import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { readAt } from "./positional.js";

/**
 * Sequential reading of an archive, from a file (skipping costs nothing) or from a stream
 * (skipping consumes). Readers written against it work on both without buffering more than
 * what they ask for.
 */
export interface ByteSource {
  /** Up to `length` bytes; fewer only at the end of the input. */
  read(length: number): Promise<Buffer>;
  /**
   * At least one and up to `length` bytes, whatever comes cheapest (a stream's next chunk as
   * it is, never joined with the one after); none only at the end. For data passed on, e.g.
   * hashed, where copying it into bigger pieces would be garbage.
   */
  readSome(length: number): Promise<Buffer>;
  skip(length: number): Promise<void>;
  /** Bytes consumed so far: the offset of the next byte. */
  readonly position: number;
}

/** Small reads (tar headers, one after another) are served from one window of this size. */
const WINDOW_BYTES = 64 * 1024;

/**
 * A file read in place, from `start` up to `end` (the file's end when not given). Headers of
 * an archive of 70,000 small entries cost a few hundred reads, not 140,000: reads smaller
 * than the window are served from one read-ahead window; skipping costs nothing.
 */
export function fileSource(handle: FileHandle, start = 0, end = Number.POSITIVE_INFINITY): ByteSource {
  let position = start;
  let windowStart = 0;
  let window: Buffer = Buffer.alloc(0);
  return {
    get position() {
      return position;
    },
    async read(length) {
      const wanted = Math.max(0, Math.min(length, end - position));
      if (position < windowStart || position + wanted > windowStart + window.length) {
        if (wanted >= WINDOW_BYTES) {
          const buffer = await readAt(handle, position, wanted);
          position += buffer.length;
          return buffer;
        }
        windowStart = position;
        window = await readAt(handle, position, Math.min(WINDOW_BYTES, end - position));
      }
      const from = position - windowStart;
      const piece = Buffer.from(window.subarray(from, Math.min(from + wanted, window.length)));
      position += piece.length;
      return piece;
    },
    readSome(length) {
      return this.read(length);
    },
    async skip(length) {
      position += length;
    },
  };
}

export function streamSource(stream: Readable): ByteSource {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let position = 0;

  const fill = async (length: number) => {
    while (queued < length && !ended) {
      const next = await chunks.next();
      if (next.done) ended = true;
      else if (next.value.length > 0) {
        queue.push(next.value);
        queued += next.value.length;
      }
    }
  };
  /** Removes up to `length` bytes from the front of the queue, keeping them when asked. */
  const take = (length: number, keep: boolean): Buffer[] => {
    const taken: Buffer[] = [];
    let left = Math.min(length, queued);
    while (left > 0) {
      const head = queue[0]!;
      const part = head.length <= left ? head : head.subarray(0, left);
      if (part === head) queue.shift();
      else queue[0] = head.subarray(left);
      if (keep) taken.push(part);
      left -= part.length;
      queued -= part.length;
      position += part.length;
    }
    return taken;
  };
  return {
    get position() {
      return position;
    },
    async read(length) {
      await fill(length);
      const parts = take(length, true);
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    async readSome(length) {
      await fill(1);
      const head = queue[0];
      return head ? take(Math.min(length, head.length), true)[0]! : Buffer.alloc(0);
    },
    async skip(length) {
      let left = length;
      while (left > 0) {
        if (queued === 0) {
          await fill(1);
          if (queued === 0) return;
        }
        const step = Math.min(left, queued);
        take(step, false);
        left -= step;
      }
    },
  };
}
