import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerArchive, ociLayout, podmanDockerArchive, syntheticImage } from "../../test/helpers/images.js";
import { tempDir } from "../../test/helpers/tmp.js";
import { writeZip } from "../archive/zip-writer.js";
import { checkBundleFile, type BundleReport } from "./check.js";
import { PLATFORM_ZIP_LIMIT_BYTES } from "./limits.js";

const MANIFEST = JSON.stringify({ apiVersion: "2", name: "svc", version: "1.0.0", provider: { name: "Example" }, replicas: 2 });
const IMAGE = dockerArchive(syntheticImage());

/** A zip with these entries in this order, stored (level 0) or deflated: what other tools' zips come down to. */
async function uploadZip(files: Record<string, string | Buffer>, level = 6): Promise<string> {
  const path = join(await tempDir(), "upload.zip");
  await writeZip(path, Object.entries(files).map(([name, data]) => ({ name, data: Buffer.from(data) })), { level });
  return path;
}

const all = (report: BundleReport) => [...report.errors, ...report.warnings];
const rules = (report: BundleReport) => all(report).map((d) => d.rule).sort();

describe("checkBundleFile (platform.md §2, §6.4)", () => {
  it("accepts cumulocity.json and a linux/amd64 docker-archive at the root", async () => {
    const path = await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": IMAGE });
    const report = await checkBundleFile(path);
    expect(all(report)).toEqual([]);
    expect(report.manifest?.manifest).toMatchObject({ name: "svc", version: "1.0.0" });
    expect(report.image?.images).toHaveLength(1);
    expect(report.bytes).toBe((await readFile(path)).length);
    expect(PLATFORM_ZIP_LIMIT_BYTES).toBe(500 * 1024 * 1024);
  });

  it("reports missing, misplaced and extra entries", async () => {
    const nested = await checkBundleFile(await uploadZip({ "svc/cumulocity.json": MANIFEST, "image.tar": IMAGE, "README.md": "hi" }));
    expect(rules(nested)).toEqual(["zip-entries", "zip-extra-entry"]);
    expect(nested.errors[0]!.message).toBe("cumulocity.json must be at the zip's root with that exact name; found svc/cumulocity.json.");
    // One finding for all of them: a zip of 150,000 entries must not give 150,000 lines.
    expect(nested.errors[1]).toMatchObject({ severity: "error", message: 'The zip also holds "svc/cumulocity.json", "README.md"; the platform takes exactly cumulocity.json and image.tar (c8y-ms pack writes nothing else).' });
    const missing = await checkBundleFile(await uploadZip({ "cumulocity.json": MANIFEST }));
    expect(missing.errors).toMatchObject([{ rule: "zip-entries", severity: "error", message: "The zip has no image.tar." }]);
  });

  it("reports a name that appears twice: which entry the platform reads is not defined", async () => {
    const dir = await tempDir();
    const path = join(dir, "twice.zip");
    const removed = JSON.stringify({ ...JSON.parse(MANIFEST), apiVersion: "1" });
    await writeZip(path, [{ name: "cumulocity.json", data: Buffer.from(MANIFEST) }, { name: "image.tar", data: IMAGE }, { name: "cumulocity.json", data: Buffer.from(removed) }], { level: 6 });
    const report = await checkBundleFile(path);
    expect(all(report)).toMatchObject([
      { rule: "zip-duplicate-entry", severity: "error", message: "The zip holds 2 entries named cumulocity.json; which one the platform reads is not defined. Pack the zip again." },
    ]);
  });

  it("counts duplicates among 60,000 entries in one pass (a scan per name froze the sandbox for 75 s)", async () => {
    const dir = await tempDir();
    const path = join(dir, "many.zip");
    const empty = new Uint8Array(0);
    const filler = Array.from({ length: 60_000 }, (_, i) => ({ name: `f/${i % 30_000}`, data: empty }));
    await writeZip(path, [{ name: "cumulocity.json", data: Buffer.from(MANIFEST) }, { name: "image.tar", data: IMAGE }, ...filler], { level: 0 });
    const report = await checkBundleFile(path);
    const duplicates = all(report).filter((d) => d.rule === "zip-duplicate-entry");
    expect(duplicates).toHaveLength(30_000);
    expect(duplicates[0]!.message).toBe("The zip holds 2 entries named f/0; which one the platform reads is not defined. Pack the zip again.");
  });

  it("warns when the image inside is over the limit although the compressed zip is not", async () => {
    const path = await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": IMAGE }, 9);
    const zipBytes = (await readFile(path)).length;
    expect(zipBytes).toBeLessThan(IMAGE.length);
    const report = await checkBundleFile(path, { sizeLimit: zipBytes + 1 });
    expect(all(report)).toMatchObject([{ rule: "image-size", severity: "warning", file: path, entry: "image.tar" }]);
    expect(all(report)[0]!.message).toMatch(/^The image has \d+ bytes uncompressed; the platform's image size quota is \d+ bytes, and it may count the image, not the zip\./);
  });

  it("names manifest problems by the entry they are in", async () => {
    const path = await uploadZip({ "cumulocity.json": JSON.stringify({ ...JSON.parse(MANIFEST), name: "My_Service" }), "image.tar": IMAGE });
    const report = await checkBundleFile(path);
    expect(all(report)).toMatchObject([{ rule: "name-format", severity: "error", file: path, entry: "cumulocity.json" }]);
  });

  it("reports image problems in image.tar: OCI layout, arm64", async () => {
    const oci = await checkBundleFile(await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": ociLayout([{ image: syntheticImage() }], { refName: "svc:1.0.0" }) }));
    expect(oci.errors).toMatchObject([{ rule: "image-format", severity: "error" }]);
    expect(oci.errors[0]).toMatchObject({ file: expect.stringMatching(/upload\.zip$/), entry: "image.tar" });
    const arm = await checkBundleFile(await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": dockerArchive(syntheticImage({ architecture: "arm64" })) }));
    expect(rules(arm)).toEqual(["image-platform"]);
  });

  it("reports a damaged image.tar as a corrupt zip", async () => {
    const path = await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": IMAGE }, 0);
    const bytes = await readFile(path);
    const at = bytes.indexOf("manifest.json");
    bytes[at + 600] = bytes[at + 600]! ^ 0x55;
    await writeFile(path, bytes);
    expect(rules(await checkBundleFile(path))).toContain("zip-corrupt");
  });

  describe("reads a stored image.tar in place and a deflated one as a stream, with the same findings", () => {
    const damagedLayer = (() => {
      const tar = dockerArchive(syntheticImage());
      tar.write("X", tar.indexOf("app/server.js", 2048) + 600, "latin1");
      return tar;
    })();
    const withoutEndMarker = dockerArchive(syntheticImage()).subarray(0, -1024);
    const cases: [string, Buffer][] = [
      ["a docker-archive", IMAGE],
      ["podman's docker-archive with symlinks", podmanDockerArchive(syntheticImage())],
      ["an OCI layout with gzip layers", ociLayout([{ image: syntheticImage(), gzip: true }], { refName: "svc:1.0.0" })],
      ["an arm64 image", dockerArchive(syntheticImage({ architecture: "arm64" }))],
      ["a layer that does not match its digest", damagedLayer],
      ["a tar without its end marker", withoutEndMarker],
      ["a tar cut off in a layer", IMAGE.subarray(0, 3000)],
      ["something that is not a tar", Buffer.alloc(4096, 7)],
    ];
    it.each(cases)("%s", async (_label, image) => {
      const files = { "cumulocity.json": MANIFEST, "image.tar": image };
      const stored = await checkBundleFile(await uploadZip(files, 0));
      const deflated = await checkBundleFile(await uploadZip(files));
      const findings = (report: BundleReport) => all(report).map((d) => `${d.rule}: ${d.message.replace(/\S*upload\.zip/g, "ZIP")}`);
      // Read in place, a cut-off archive can name the entry it cuts; a stream only knows it ended.
      const truncation = (text: string) => text.replace(/ is truncated(: .* is cut short)?\./, " is truncated.");
      expect(findings(stored).map(truncation)).toEqual(findings(deflated));
      expect(stored.image?.images.map((i) => i.id)).toEqual(deflated.image?.images.map((i) => i.id));
    });
  });

  it("finds a stored image.tar whose bytes changed after zipping by its CRC-32, and trusts nothing else in it", async () => {
    const path = await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": IMAGE }, 0);
    const bytes = await readFile(path);
    const at = bytes.indexOf("app/server.js", bytes.indexOf("image.tar") + 2048) + 600;
    bytes[at] = bytes[at]! ^ 0x55;
    await writeFile(path, bytes);
    const report = await checkBundleFile(path);
    expect(all(report)).toMatchObject([{ rule: "zip-corrupt", message: `${path} is not a valid zip: image.tar is damaged (CRC-32 mismatch).` }]);
    expect(report.image).toBeUndefined();
  });

  it("reports a zip over the size limit, and what is not a zip", async () => {
    const path = await uploadZip({ "cumulocity.json": MANIFEST, "image.tar": IMAGE });
    const report = await checkBundleFile(path, { sizeLimit: 1000 });
    expect(all(report)).toMatchObject([{ rule: "zip-size", severity: "error", file: path }]);
    expect(all(report)[0]!.message).toMatch(/^The zip has \d+ bytes; the platform accepts at most 1000 bytes\.$/);
    const dir = await tempDir({ "x.zip": "not a zip" });
    expect(rules(await checkBundleFile(join(dir, "x.zip")))).toEqual(["zip-format"]);
  });
});
