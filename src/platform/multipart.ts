import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { CliError } from "../errors.js";
import type { BodySource } from "./client.js";

/** Large reads keep the per-chunk overhead of a multi-GB upload small; memory stays one chunk. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FileToUpload {
  path: string;
  /** Size in bytes when the upload was planned; the file must not change meanwhile. */
  bytes: number;
  /** The file name the platform sees. */
  fileName: string;
}

/**
 * A `multipart/form-data` body with one file part named `file` (platform.md §3.3 #7; the
 * Maven plugin's content type `application/zip`), streamed from disk: the preamble, the file,
 * the epilogue, with an exact Content-Length so nothing is chunked or buffered. Each
 * `open()` starts a fresh stream, so a retry sends the file again from its first byte.
 */
export function multipartFile(file: FileToUpload, onBytes: (bytes: number) => void = () => {}, gate?: () => Promise<void>): BodySource {
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
    open: () => Readable.from(parts(file, preamble, epilogue, onBytes, gate), { objectMode: false }),
  };
}

async function* parts(file: FileToUpload, preamble: Buffer, epilogue: Buffer, onBytes: (bytes: number) => void, gate?: () => Promise<void>): AsyncGenerator<Buffer> {
  yield preamble;
  let sent = 0;
  for await (const chunk of createReadStream(file.path, { highWaterMark: READ_CHUNK_BYTES })) {
    const buffer = chunk as Buffer;
    sent += buffer.length;
    if (sent > file.bytes) break;
    // Without its last bytes the platform cannot complete the upload: whatever the gate waits
    // for (a check of the zip running beside the upload) decides whether it ever does.
    if (sent === file.bytes && gate) await gate();
    onBytes(buffer.length);
    yield buffer;
  }
  // A file that changed size mid-upload would make the Content-Length a lie: stop, loudly.
  if (sent !== file.bytes) {
    throw new CliError(`${file.path} changed while it was being uploaded (${sent} bytes read, ${file.bytes} expected).`, {
      hint: "Do not rewrite the zip during a deploy; run the deploy again.",
    });
  }
  yield epilogue;
}
