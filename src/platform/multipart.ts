import { randomBytes } from "node:crypto";
import { CliError } from "../errors.js";
import type { BodySource } from "./client.js";

/**
 * Each chunk is far above a socket's write high-water mark (16 KiB, 64 KiB on newer Node), so
 * every write reports backpressure and undici waits for 'drain' before it asks for the next:
 * by then the socket has let go of the chunk before it.
 */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Chunks are read into these few buffers in turn and never allocated per read: a multi-GB
 * upload would otherwise leave up to V8's external-memory slack (64 MB) of dead buffers
 * behind before a collection. Four leave room for the chunk on the wire, the one before it
 * and the read ahead.
 */
const RING_SIZE = 4;

/** Like any body, opened once per attempt; each attempt reports its own bytes. */
export interface MultipartFileBody extends BodySource {
  open(onBytes?: (bytes: number) => void): AsyncIterable<Uint8Array>;
}

/**
 * The bytes to upload, read at positions (a FileHandle is one). The platform layer knows no
 * files: whoever plans the upload opens them.
 */
export interface UploadBytes {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** The size now, to catch a file that changed while it was sent. */
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface FileToUpload {
  /** What messages call it, e.g. its path. */
  label: string;
  /** Size in bytes when the upload was planned; the bytes must not change meanwhile. */
  bytes: number;
  /** The file name the platform sees. */
  fileName: string;
  /** Opens the bytes for one attempt; each attempt reads them from the first. */
  open(): Promise<UploadBytes>;
}

/**
 * A `multipart/form-data` body with one file part named `file` (platform.md §3.3 #7; the
 * Maven plugin's content type `application/zip`), streamed from its bytes: the preamble, the file,
 * the epilogue, with an exact Content-Length so nothing is chunked or buffered. Each
 * `open()` starts a fresh stream, so a retry sends the file again from its first byte; its
 * `onBytes` hears only that stream's file bytes, so an abandoned attempt still being drained
 * cannot count towards the next one. `gate`, when given, must resolve before the file's last
 * chunk is sent; if it rejects, the upload fails with its error and never completes.
 */
export function multipartFile(file: FileToUpload, gate?: () => Promise<void>): MultipartFileBody {
  const boundary = `----c8y-ms-${randomBytes(12).toString("hex")}`;
  const safeName = file.fileName.replace(/["\r\n\\]/g, "_");
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\nContent-Type: application/zip\r\n\r\n`,
    "utf8",
  );
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`, "utf8");
  return {
    headers: {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(preamble.length + file.bytes + epilogue.length),
    },
    open: (onBytes = () => {}) => parts(file, preamble, epilogue, onBytes, gate),
  };
}

async function* parts(file: FileToUpload, preamble: Buffer, epilogue: Buffer, onBytes: (bytes: number) => void, gate?: () => Promise<void>): AsyncGenerator<Buffer> {
  yield preamble;
  for await (const chunk of fileChunks(file)) {
    // Without its last bytes the platform cannot complete the upload: whatever the gate waits
    // for (a check of the zip running beside the upload) decides whether it ever does.
    if (chunk.last && gate) await gate();
    onBytes(chunk.data.length);
    yield chunk.data;
  }
  yield epilogue;
}

/** The file in CHUNK_BYTES pieces, the next one read while the current one is sent. */
async function* fileChunks(file: FileToUpload): AsyncGenerator<{ data: Buffer; last: boolean }> {
  const handle = await file.open();
  try {
    const ring = Array.from({ length: RING_SIZE }, () => Buffer.allocUnsafe(CHUNK_BYTES));
    const readInto = (slot: number, position: number) => handle.read(ring[slot] as Buffer, 0, Math.min(CHUNK_BYTES, file.bytes - position), position);
    let position = 0;
    let slot = 0;
    let reading = file.bytes > 0 ? readInto(0, 0) : undefined;
    while (reading) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const data = (ring[slot] as Buffer).subarray(0, bytesRead);
      position += bytesRead;
      slot = (slot + 1) % RING_SIZE;
      reading = position < file.bytes ? readInto(slot, position) : undefined;
      if (!reading) await checkUnchanged(handle, file, position);
      yield { data, last: reading === undefined };
    }
    if (position !== file.bytes) throw changedError(file, position);
  } finally {
    await handle.close();
  }
}

/** A file that grew or shrank mid-upload would make the Content-Length a lie: stop, loudly. */
async function checkUnchanged(handle: UploadBytes, file: FileToUpload, position: number): Promise<void> {
  const { size } = await handle.stat();
  if (size !== file.bytes) throw changedError(file, Math.max(position, size));
}

function changedError(file: FileToUpload, bytes: number): CliError {
  return new CliError(`${file.label} changed while it was being uploaded (${bytes} bytes found, ${file.bytes} expected).`, {
    hint: "Do not rewrite the zip during a deploy; run the deploy again.",
  });
}
