import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { describeWithTools } from "../../test/helpers/tools.js";
import { mixedContent, sha256, ZIP_MANIFEST, zipOf } from "../../test/helpers/zip-content.js";

const JAVA_READER = fileURLToPath(new URL("../../test/fixtures/zip/StreamZip.java", import.meta.url));

/** Our zips as other readers see them: what the platform (Java) and users' tools accept. */
describeWithTools(["unzip", "python3", "java", "zipinfo", "zip"], "writeZip, read by other tools", () => {
  const content = mixedContent();

  it.each([0, 1, 6, 9])("level %i is read by unzip and Python's zipfile", async (level) => {
    const { zip } = await zipOf(level, content);
    expect(execFileSync("unzip", ["-t", zip]).toString()).toContain("No errors detected");
    const python = execFileSync("python3", ["-c", "import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(z.namelist(), hashlib.sha256(z.read('image.tar')).hexdigest())", zip]).toString();
    expect(python).toBe(`['cumulocity.json', 'image.tar'] ${sha256(content)}\n`);
  });

  it("is read by Java's ZipInputStream (stored and deflated, sizes in the local headers) and ZipFile", async () => {
    const zips = [(await zipOf(0, content)).zip, (await zipOf(6, content)).zip];
    const lines = execFileSync("java", [JAVA_READER, ...zips]).toString().trim().split("\n");
    for (const at of [0, 4]) {
      expect(lines.slice(at, at + 2)).toEqual([`stream cumulocity.json ${ZIP_MANIFEST.length} ${sha256(ZIP_MANIFEST)}`, `stream image.tar ${content.length} ${sha256(content)}`]);
      expect(lines[at + 3]).toMatch(new RegExp(`^file image.tar ${content.length} [0-9a-f]+$`));
    }
  }, 60_000);

  it("has fixed 1980-01-01 timestamps and attributes, whatever the file's mtime", async () => {
    const { zip } = await zipOf(6, content);
    expect(execFileSync("zipinfo", [zip]).toString()).toMatch(/-rw-r--r--.* 80-Jan-01 00:00 image\.tar/);
  });

  it("is close to Info-ZIP's size at the same level", async () => {
    for (const level of [1, 6, 9]) {
      const { dir, result } = await zipOf(level, content);
      execFileSync("zip", ["-q", `-${level}`, "-X", "ref.zip", "image.tar"], { cwd: dir });
      const reference = (await readFile(join(dir, "ref.zip"))).length;
      expect(result.bytes / reference).toBeLessThan(1.02);
      await writeFile(join(dir, "ref.zip"), "");
    }
  });

  it("writes empty entries unzip accepts", async () => {
    const { zip } = await zipOf(6, Buffer.alloc(0));
    expect(execFileSync("unzip", ["-t", zip]).toString()).toContain("No errors detected");
  });
});
