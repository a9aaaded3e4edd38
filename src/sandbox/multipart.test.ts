import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundaryOf, MultipartError, receiveFile, TooLargeError } from "./multipart.js";

const BOUNDARY = "----c8yBoundary7MA4YWxkTrZu0gW";

function body(parts: { headers: string; data: Buffer }[]): Buffer {
  const chunks: Buffer[] = [Buffer.from("preamble to ignore\r\n")];
  for (const part of parts) chunks.push(Buffer.from(`--${BOUNDARY}\r\n${part.headers}\r\n\r\n`), part.data, Buffer.from("\r\n"));
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

async function* split(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let offset = 0;
  for (const size of sizes) {
    if (offset >= data.length) break;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
  if (offset < data.length) yield data.subarray(offset);
}

async function receive(data: Buffer, sizes: number[] = [data.length], limit = Number.MAX_SAFE_INTEGER) {
  const received: Buffer[] = [];
  const file = await receiveFile(split(data, sizes), BOUNDARY, (chunk) => void received.push(Buffer.from(chunk)), limit);
  return { file, data: Buffer.concat(received) };
}

const fileHeaders = (name: string, fileName: string) => `Content-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: application/zip`;

describe("boundaryOf", () => {
  it.each([
    [`multipart/form-data; boundary=${BOUNDARY}`, BOUNDARY],
    [`multipart/form-data; charset=utf-8; boundary="quoted boundary"`, "quoted boundary"],
    ["application/zip", undefined],
    ["multipart/form-data", undefined],
  ])("reads %s", (header, expected) => {
    expect(boundaryOf(header)).toBe(expected);
  });
});

describe("receiveFile (platform.md §3.3 #7: any part name)", () => {
  it("streams the file part whatever its field name and skips text parts before and after it", async () => {
    const zip = Buffer.from("PK\u0003\u0004 zip bytes \r\n-- not a boundary \r\n");
    const data = body([
      { headers: 'Content-Disposition: form-data; name="fileName"', data: Buffer.from("x.zip") },
      { headers: fileHeaders("data", "my-service-1.0.0.zip"), data: zip },
      { headers: 'Content-Disposition: form-data; name="other"', data: Buffer.from("ignored") },
    ]);
    const result = await receive(data);
    expect(result.file).toEqual({ fieldName: "data", fileName: "my-service-1.0.0.zip", contentType: "application/zip", bytes: zip.length });
    expect(result.data.equals(zip)).toBe(true);
  });

  it("gives the same bytes however the body is cut into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 60 }), async (bytes, sizes) => {
        const payload = Buffer.from(bytes);
        const result = await receive(body([{ headers: fileHeaders("file", "a.zip"), data: payload }]), sizes);
        expect(result.data.equals(payload)).toBe(true);
        expect(result.file?.bytes).toBe(payload.length);
      }),
      { numRuns: 200 },
    );
  });

  it("reads a filename* parameter", async () => {
    const data = body([{ headers: `Content-Disposition: form-data; name="file"; filename*=UTF-8''d%C3%A9mo.zip`, data: Buffer.from("z") }]);
    expect((await receive(data)).file?.fileName).toBe("démo.zip");
  });

  it("stops with TooLargeError as soon as the file passes the limit", async () => {
    const payload = Buffer.alloc(10_000, 7);
    const chunks: number[] = [];
    const data = body([{ headers: fileHeaders("file", "big.zip"), data: payload }]);
    let consumed = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < data.length; offset += 1000) {
        consumed += 1000;
        yield data.subarray(offset, offset + 1000);
      }
    }
    await expect(receiveFile(counting(), BOUNDARY, (c) => void chunks.push(c.length), 4000)).rejects.toBeInstanceOf(TooLargeError);
    expect(consumed).toBeLessThan(data.length);
    expect(chunks.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4000);
  });

  it("refuses a boundary line that never ends as soon as it is longer than padding can be, without reading on", async () => {
    let consumed = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from(`--${BOUNDARY}`);
      for (let i = 0; i < 200; i++) {
        consumed++;
        yield Buffer.alloc(64 * 1024, 0x20);
      }
    }
    await expect(receiveFile(endless(), BOUNDARY, () => {}, Number.MAX_SAFE_INTEGER)).rejects.toThrow(/boundary line/);
    expect(consumed).toBe(1);
  });

  it("returns undefined when no part carries a file", async () => {
    const data = body([{ headers: 'Content-Disposition: form-data; name="note"', data: Buffer.from("hello") }]);
    expect((await receive(data)).file).toBeUndefined();
  });

  it.each([
    ["no boundary at all", Buffer.from("just some bytes")],
    ["a body cut before its closing boundary", Buffer.from(`--${BOUNDARY}\r\n${fileHeaders("file", "a.zip")}\r\n\r\npartial`)],
  ])("refuses %s with MultipartError", async (_label, data) => {
    await expect(receive(data)).rejects.toBeInstanceOf(MultipartError);
  });
});
