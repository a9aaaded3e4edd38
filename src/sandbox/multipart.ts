/**
 * A streaming multipart/form-data reader for uploads: the file part goes to a sink chunk by
 * chunk (memory stays flat whatever the size), every other part is read and dropped. The
 * platform takes the file from whichever part carries it (`file`, `data`...; platform.md
 * §3.3 #7), so the first part with a filename is the file.
 */

export interface ReceivedFile {
  fieldName: string;
  fileName: string | undefined;
  contentType: string | undefined;
  bytes: number;
}

/** The body is not multipart as announced. */
export class MultipartError extends Error {}

/** The file part grew beyond the limit; reading stopped there. */
export class TooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The upload is larger than ${limit} bytes.`);
    this.limit = limit;
  }
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Headers of one part are small; a bigger header block means the body is not what it claims. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
/**
 * Transport padding after a boundary is a few spaces (RFC 2046 §5.1.1); SMTP's line limit
 * (998 characters, RFC 5322 §2.1.1) is more than any real body has there. Waiting longer for
 * the line break would keep growing the buffer, and joining it again on every chunk.
 */
const MAX_BOUNDARY_LINE_BYTES = 1000;

interface PartHeaders {
  name: string;
  fileName: string | undefined;
  contentType: string | undefined;
}

/**
 * Reads `source` to its end, writing the first file part to `write`.
 * @returns the file part, or undefined when the body had none
 * @throws {TooLargeError} as soon as the file part passes `limit` bytes
 * @throws {MultipartError} when the body is not well-formed multipart
 */
export async function receiveFile(
  source: AsyncIterable<Buffer>,
  boundary: string,
  write: (chunk: Buffer) => Promise<void> | void,
  limit: number,
): Promise<ReceivedFile | undefined> {
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buffer: Buffer = Buffer.alloc(0);
  type State = "preamble" | "after-boundary" | "headers" | "body" | "epilogue";
  let state = "preamble" as State;
  let part: PartHeaders | undefined;
  let file: ReceivedFile | undefined;
  let current: ReceivedFile | undefined;

  const emit = async (data: Buffer) => {
    if (!current || data.length === 0) return;
    current.bytes += data.length;
    if (current.bytes > limit) throw new TooLargeError(limit);
    await write(data);
  };

  const step = async (): Promise<boolean> => {
    switch (state) {
      case "preamble": {
        const at = buffer.indexOf(opening);
        if (at < 0) {
          buffer = buffer.subarray(Math.max(0, buffer.length - opening.length));
          return false;
        }
        buffer = buffer.subarray(at + opening.length);
        state = "after-boundary";
        return true;
      }
      case "after-boundary": {
        if (buffer.length < 2) return false;
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          state = "epilogue";
          return true;
        }
        // Tolerate transport padding (spaces, tabs) before the line break after a boundary.
        const lineEnd = buffer.indexOf("\r\n");
        if (lineEnd < 0) {
          if (buffer.length > MAX_BOUNDARY_LINE_BYTES) throw new MultipartError("A multipart boundary line does not end (no line break after the boundary).");
          return false;
        }
        buffer = buffer.subarray(lineEnd + 2);
        state = "headers";
        return true;
      }
      case "headers": {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buffer.length > MAX_PART_HEADER_BYTES) throw new MultipartError("A multipart part has oversized headers.");
          return false;
        }
        part = parsePartHeaders(buffer.subarray(0, end).toString("utf8"));
        buffer = buffer.subarray(end + 4);
        const isFile = file === undefined && (part.fileName !== undefined || isBinaryType(part.contentType));
        current = isFile ? { fieldName: part.name, fileName: part.fileName, contentType: part.contentType, bytes: 0 } : undefined;
        if (current) file = current;
        state = "body";
        return true;
      }
      case "body": {
        const at = buffer.indexOf(delimiter);
        if (at >= 0) {
          await emit(buffer.subarray(0, at));
          buffer = buffer.subarray(at + delimiter.length);
          current = undefined;
          state = "after-boundary";
          return true;
        }
        // Keep a tail that could be the start of the delimiter; pass on the rest.
        const keep = delimiter.length - 1;
        if (buffer.length > keep) {
          await emit(buffer.subarray(0, buffer.length - keep));
          buffer = buffer.subarray(buffer.length - keep);
        }
        return false;
      }
      case "epilogue":
        buffer = Buffer.alloc(0);
        return false;
    }
  };

  for await (const chunk of source) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (await step());
  }
  if (state !== "epilogue") {
    throw new MultipartError(state === "preamble" ? "The body holds no multipart boundary." : "The multipart body ended before its closing boundary.");
  }
  return file;
}

function isBinaryType(contentType: string | undefined): boolean {
  return contentType !== undefined && !/^text\//i.test(contentType);
}

function parsePartHeaders(block: string): PartHeaders {
  const headers = new Map<string, string>();
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get("content-disposition") ?? "";
  return {
    name: parameter(disposition, "name") ?? "",
    fileName: parameter(disposition, "filename*")?.replace(/^UTF-8''/i, "") ?? parameter(disposition, "filename"),
    contentType: headers.get("content-type"),
  };
}

function parameter(header: string, key: string): string | undefined {
  const escaped = key.replace(/[*]/g, "\\*");
  const match = new RegExp(`;\\s*${escaped}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]+))`, "i").exec(header);
  const value = match?.[1] ?? match?.[2]?.trim();
  if (value === undefined) return undefined;
  try {
    return key.endsWith("*") ? decodeURIComponent(value.replace(/^UTF-8''/i, "")) : value.replace(/\\(.)/g, "$1");
  } catch {
    return value;
  }
}
