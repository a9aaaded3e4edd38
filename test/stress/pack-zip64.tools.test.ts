import { execFileSync } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openZip } from "../../src/archive/zip-reader.js";
import { writeZip } from "../../src/archive/zip-writer.js";
import { runCli } from "../helpers/cli.js";
import { writeSparseImageTar } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";
import { describeWithTools } from "../helpers/tools.js";

/**
 * Images past 4 GiB need ZIP64 (APPNOTE 4.5). The image here is a sparse file (holes read as
 * zeros), so creating it costs little; still, over 4 GiB is written twice, so these run only with
 * `npm run test:stress` (CI runs it too).
 */
const FOUR_GIB = 4 * 1024 * 1024 * 1024;
const MANIFEST = { apiVersion: "2", name: "big-service", version: "1.0.0", provider: { name: "c8y-ms tests" }, replicas: 2 };

/** Python's zipfile: names, sizes, and whether it found the ZIP64 end record. */
function pythonView(zip: string): string {
  return execFileSync("python3", [
    "-c",
    "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint([(i.filename,i.file_size,i.header_offset) for i in z.infolist()])",
    zip,
  ]).toString().trim();
}

describeWithTools(["unzip", "python3"], "ZIP64", () => {
  it("pack writes a >4 GiB image into a zip that unzip, Python and our reader accept", async () => {
    const dir = await tempDir({ "cumulocity.json": JSON.stringify(MANIFEST) });
    const image = await writeSparseImageTar(join(dir, "big.tar"), FOUR_GIB + 64 * 1024 * 1024);
    expect(image.bytes).toBeGreaterThan(FOUR_GIB);
    const run = await runCli(["pack", "--image-tar", "big.tar", "--compression-level", "1", "--json"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    const result = run.json<{ file: string; bytes: number; image: { bytes: number; id: string } }>();
    expect(result.image).toMatchObject({ bytes: image.bytes, id: image.id });
    expect(result.bytes).toBeLessThan(50 * 1024 * 1024); // zeros compress: the upload fits the platform

    expect(execFileSync("unzip", ["-t", result.file]).toString()).toContain("No errors detected in compressed data");
    expect(pythonView(result.file)).toContain(`('image.tar', ${image.bytes}, `);
    const zip = await openZip(result.file);
    expect(zip.entries.map((e) => [e.name, e.size])).toEqual([
      ["cumulocity.json", expect.any(Number)],
      ["image.tar", image.bytes],
    ]);
    await zip.close();
  });

  it("stores entries past the 4 GiB offset mark with a ZIP64 end record", async () => {
    const dir = await tempDir();
    const image = await writeSparseImageTar(join(dir, "big.tar"), FOUR_GIB + 16 * 1024 * 1024);
    const zipPath = join(dir, "stored.zip");
    // The small entry last: its local header lies past 4 GiB, as does the central directory.
    await writeZip(zipPath, [{ name: "image.tar", path: join(dir, "big.tar") }, { name: "after.json", data: Buffer.from("{}") }], { level: 0 });
    expect((await stat(zipPath)).size).toBeGreaterThan(image.bytes);
    // Only the entry past 4 GiB: reading back the whole stored image would double the test's time.
    expect(execFileSync("unzip", ["-t", zipPath, "after.json"]).toString()).toMatch(/testing: after\.json +OK\nNo errors detected/);
    const view = pythonView(zipPath);
    expect(view).toContain(`('image.tar', ${image.bytes}, 0)`);
    expect(view).toMatch(new RegExp(`\\('after\\.json', 2, (\\d+)\\)`));
    expect(Number(/'after\.json', 2, (\d+)/.exec(view)![1])).toBeGreaterThan(FOUR_GIB);
    const zip = await openZip(zipPath);
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openEntry("after.json")) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("{}");
    await zip.close();
  });
});
