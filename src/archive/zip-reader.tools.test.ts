import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.js";
import { describeWithTools } from "../../test/helpers/tools.js";
import { METHOD_DEFLATED, METHOD_STORED } from "./zip-format.js";
import { openZip, ZipFormatError } from "./zip-reader.js";

const LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(4000);

async function infoZip(files: Record<string, string>, args: string[] = []): Promise<string> {
  const dir = await tempDir(files);
  execFileSync("zip", ["-q", "-X", ...args, "out.zip", ...Object.keys(files)], { cwd: dir });
  return join(dir, "out.zip");
}

/** Zips written by Info-ZIP and Python, as users and other tools make them. */
describeWithTools(["zip", "python3"], "openZip", () => {
  it("reads entries written by Info-ZIP, deflated and stored, verifying them as they stream", async () => {
    const deflated = await infoZip({ "cumulocity.json": '{"name":"svc"}', "image.tar": LOREM });
    const zip = await openZip(deflated);
    expect(zip.entries.map((e) => [e.name, e.size, e.method])).toEqual([
      ["cumulocity.json", 14, METHOD_STORED],
      ["image.tar", LOREM.length, METHOD_DEFLATED],
    ]);
    expect(zip.entries[1]!.compressedSize).toBeLessThan(LOREM.length / 10);
    expect(await text(await zip.openEntry("image.tar"))).toBe(LOREM);
    expect(await text(await zip.openEntry("cumulocity.json"))).toBe('{"name":"svc"}');
    await zip.close();

    const stored = await openZip(await infoZip({ "a.txt": LOREM }, ["-0"]));
    expect(stored.entries[0]!.method).toBe(METHOD_STORED);
    expect(await text(await stored.openEntry("a.txt"))).toBe(LOREM);
    await stored.close();
  });

  it("reads ZIP64 records written by Python's zipfile", async () => {
    const dir = await tempDir();
    const path = join(dir, "z64.zip");
    execFileSync("python3", ["-c", "import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED,allowZip64=True) as z:\n  with z.open('big.txt','w',force_zip64=True) as f: f.write(b'x'*100000)", path]);
    const zip = await openZip(path);
    expect(zip.entries).toMatchObject([{ name: "big.txt", size: 100000 }]);
    expect((await text(await zip.openEntry("big.txt"))).length).toBe(100000);
    await zip.close();
  });

  it("fails the stream when the data does not match its CRC-32", async () => {
    const path = await infoZip({ "image.tar": LOREM }, ["-0"]);
    const bytes = await readFile(path);
    bytes[200] = bytes[200]! ^ 0xff; // inside the stored data
    await writeFile(path, bytes);
    const zip = await openZip(path);
    await expect(text(await zip.openEntry("image.tar"))).rejects.toThrow(/image\.tar is damaged \(CRC-32 mismatch\)/);
    await zip.close();
  });

  it("fails the stream with a zip error when deflated data is garbage", async () => {
    const path = await infoZip({ "image.tar": LOREM });
    const bytes = await readFile(path);
    bytes.fill(0xff, 80, 140);
    await writeFile(path, bytes);
    const zip = await openZip(path);
    const error = await text(await zip.openEntry("image.tar")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZipFormatError);
    await zip.close();
  });

  it("refuses what is not a zip, with exit code 3 and a hint", async () => {
    const dir = await tempDir({ "x.zip": "this is not a zip at all".repeat(10), "empty.zip": "" });
    for (const name of ["x.zip", "empty.zip"]) {
      const error = await openZip(join(dir, name)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ZipFormatError);
      expect((error as ZipFormatError).exitCode).toBe(3);
      expect((error as ZipFormatError).hint).toMatch(/Pack it again/);
    }
  });

  it("refuses a truncated zip", async () => {
    const path = await infoZip({ "image.tar": LOREM });
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 30));
    await expect(openZip(path)).rejects.toThrow(ZipFormatError);
  });

  it("names a missing entry", async () => {
    const zip = await openZip(await infoZip({ "a.txt": "a" }));
    await expect(zip.openEntry("image.tar")).rejects.toThrow(/has no entry named image\.tar/);
    await zip.close();
  });
});
