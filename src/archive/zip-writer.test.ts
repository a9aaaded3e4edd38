import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.js";
import { CancelledError } from "../errors.js";
import { CHUNK_BYTES } from "./parallel-deflate.js";
import { openZip } from "./zip-reader.js";
import { writeZip, ZipTooLargeError } from "./zip-writer.js";

const JAVA_READER = fileURLToPath(new URL("../../test/fixtures/zip/StreamZip.java", import.meta.url));

/** 3.5 chunks of mixed text and noise: crosses chunk boundaries with matches that span them. */
function mixedContent(size = Math.floor(CHUNK_BYTES * 3.5)): Buffer {
  const out = Buffer.alloc(size);
  let at = 0;
  let seed = createHash("sha256").update("seed").digest();
  for (let line = 0; at < size; line++) {
    if (line % 7 === 0) {
      seed = createHash("sha256").update(seed).digest();
      at += seed.copy(out, at);
    } else {
      at += out.write(`${line}: export function handler${line % 50}(request) { return respond(request, ${line * 31}); }\n`, at);
    }
  }
  return out;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const MANIFEST = Buffer.from('{\n  "name": "svc",\n  "version": "1.0.0"\n}\n');

describe("writeZip", () => {
  const content = mixedContent();

  async function zipOf(level: number, data = content): Promise<{ dir: string; zip: string; result: { bytes: number; sha256: string } }> {
    const dir = await tempDir({ "image.tar": data });
    const zip = join(dir, "out.zip");
    const result = await writeZip(zip, [{ name: "cumulocity.json", data: MANIFEST }, { name: "image.tar", path: join(dir, "image.tar") }], { level });
    return { dir, zip, result };
  }

  it.each([0, 1, 6, 9])("level %i round-trips through our reader, unzip and Python", async (level) => {
    const { zip, result } = await zipOf(level);
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

    expect(execFileSync("unzip", ["-t", zip]).toString()).toContain("No errors detected");
    const python = execFileSync("python3", ["-c", "import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(z.namelist(), hashlib.sha256(z.read('image.tar')).hexdigest())", zip]).toString();
    expect(python).toBe(`['cumulocity.json', 'image.tar'] ${sha256(content)}\n`);
  });

  it("is read by Java's ZipInputStream (stored and deflated, sizes in the local headers) and ZipFile", async () => {
    const zips = [(await zipOf(0)).zip, (await zipOf(6)).zip];
    const lines = execFileSync("java", [JAVA_READER, ...zips]).toString().trim().split("\n");
    for (const at of [0, 4]) {
      expect(lines.slice(at, at + 2)).toEqual([`stream cumulocity.json ${MANIFEST.length} ${sha256(MANIFEST)}`, `stream image.tar ${content.length} ${sha256(content)}`]);
      expect(lines[at + 3]).toMatch(new RegExp(`^file image.tar ${content.length} [0-9a-f]+$`));
    }
  }, 60_000);

  it("is deterministic: the same input gives the same bytes", async () => {
    const first = await zipOf(6);
    const second = await zipOf(6);
    expect(second.result.sha256).toBe(first.result.sha256);
    // Fixed 1980-01-01 timestamps and attributes, whatever the file's mtime.
    expect(execFileSync("zipinfo", [first.zip]).toString()).toMatch(/-rw-r--r--.* 80-Jan-01 00:00 image\.tar/);
  });

  it("is close to Info-ZIP's size at the same level", async () => {
    for (const level of [1, 6, 9]) {
      const { dir, result } = await zipOf(level);
      execFileSync("zip", ["-q", `-${level}`, "-X", "ref.zip", "image.tar"], { cwd: dir });
      const reference = (await readFile(join(dir, "ref.zip"))).length;
      expect(result.bytes / reference).toBeLessThan(1.02);
      await writeFile(join(dir, "ref.zip"), "");
    }
  });

  it("writes empty entries", async () => {
    const { zip } = await zipOf(6, Buffer.alloc(0));
    expect(execFileSync("unzip", ["-t", zip]).toString()).toContain("No errors detected");
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
    const { dir, zip, result } = await zipOf(1);
    const failing = writeZip(zip, [{ name: "image.tar", path: join(dir, "image.tar") }], {
      level: 1,
      beforeCommit: () => Promise.reject(new Error("layer digest mismatch")),
    });
    await expect(failing).rejects.toThrow("layer digest mismatch");
    expect(sha256(await readFile(zip))).toBe(result.sha256);
    expect((await readdir(dir)).sort()).toEqual(["image.tar", "out.zip"]);
  });
});
