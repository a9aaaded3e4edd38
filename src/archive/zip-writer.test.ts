import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.js";
import { mixedContent, sha256, zipOf } from "../../test/helpers/zip-content.js";
import { CancelledError } from "../errors.js";
import { CHUNK_BYTES } from "./parallel-deflate.js";
import { openZip } from "./zip-reader.js";
import { writeZip, ZipTooLargeError } from "./zip-writer.js";

/** Other readers (unzip, Python, Java, Info-ZIP's sizes) check the same zips in zip-writer.tools.test.ts. */
describe("writeZip", () => {
  const content = mixedContent();

  it.each([0, 1, 6, 9])("level %i round-trips through our reader", async (level) => {
    const { zip, result } = await zipOf(level, content);
    const bytes = await readFile(zip);
    expect(result.bytes).toBe(bytes.length);
    expect(result.sha256).toBe(sha256(bytes));

    const reader = await openZip(zip);
    expect(reader.entries.map((e) => e.name)).toEqual(["cumulocity.json", "image.tar"]);
    expect(reader.entries[1]!.method).toBe(level === 0 ? 0 : 8);
    // Digests, not toEqual: deep equality of megabyte buffers is very slow.
    expect(sha256(await buffer(await reader.openEntry("image.tar")))).toBe(sha256(content));
    await reader.close();
    if (level > 0) expect(bytes.length).toBeLessThan(content.length * 0.6);
  });

  it("is deterministic: the same input gives the same bytes", async () => {
    const first = await zipOf(6, content);
    const second = await zipOf(6, content);
    expect(second.result.sha256).toBe(first.result.sha256);
  });

  it("writes empty entries", async () => {
    const { zip } = await zipOf(6, Buffer.alloc(0));
    const reader = await openZip(zip);
    expect((await buffer(await reader.openEntry("image.tar"))).length).toBe(0);
    await reader.close();
  });

  it("stops at the size limit and leaves nothing behind", async () => {
    const dir = await tempDir({ "image.tar": content });
    const target = join(dir, "out.zip");
    const error = await writeZip(target, [{ name: "image.tar", path: join(dir, "image.tar") }], { level: 0, limitBytes: CHUNK_BYTES }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZipTooLargeError);
    expect(await readdir(dir)).toEqual(["image.tar"]);
  });

  it("stops when aborted (Ctrl-C) and leaves nothing behind", async () => {
    const dir = await tempDir({ "image.tar": content });
    const controller = new AbortController();
    let seen = 0;
    const write = writeZip(join(dir, "out.zip"), [{ name: "image.tar", path: join(dir, "image.tar") }], {
      level: 6,
      signal: controller.signal,
      onProgress: (bytes) => {
        seen += bytes;
        controller.abort();
      },
    });
    await expect(write).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(["image.tar"]);
  });

  it("discards the zip when the pre-commit check fails, keeping an older one", async () => {
    const { dir, zip, result } = await zipOf(1, content);
    const failing = writeZip(zip, [{ name: "image.tar", path: join(dir, "image.tar") }], {
      level: 1,
      beforeCommit: () => Promise.reject(new Error("layer digest mismatch")),
    });
    await expect(failing).rejects.toThrow("layer digest mismatch");
    expect(sha256(await readFile(zip))).toBe(result.sha256);
    expect((await readdir(dir)).sort()).toEqual(["image.tar", "out.zip"]);
  });
});
