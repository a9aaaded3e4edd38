import type { FileHandle } from "node:fs/promises";

/** Reads `length` bytes at `position`; fewer only when the file ends first. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** Writes all of `data` at `position` (a single write may stop short). */
export async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Big enough that reads are cheap, small enough to go unnoticed. */
const SCAN_BUFFER_BYTES = 1024 * 1024;

/**
 * Passes the bytes of [position, position + length) to `consume`, in pieces of one reused
 * buffer, so scanning gigabytes leaves no garbage behind (a stream allocates per chunk, and a
 * fast disk outruns the collector by tens of megabytes). `consume` must be done with a piece
 * when it returns, as hashing and CRC-32 are. Returns how many bytes there were; fewer than
 * `length` only when the file ends first.
 */
export async function scanRange(handle: FileHandle, position: number, length: number, consume: (piece: Buffer, at: number) => void, signal?: AbortSignal): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(SCAN_BUFFER_BYTES, Math.max(length, 1)));
  let done = 0;
  while (done < length) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - done), position + done);
    if (bytesRead === 0) break;
    consume(buffer.subarray(0, bytesRead), position + done);
    done += bytesRead;
  }
  return done;
}
