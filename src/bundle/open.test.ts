import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerArchive, syntheticImage } from "../../test/helpers/images.js";
import { tempDir } from "../../test/helpers/tmp.js";
import { writeZip } from "../archive/zip-writer.js";
import { ZipFormatError } from "../archive/zip-reader.js";
import { MANIFEST_MAX_BYTES } from "../manifest/limits.js";
import { openBundle } from "./open.js";

const MANIFEST = JSON.stringify({ apiVersion: "2", name: "svc", version: "1.0.0", provider: { name: "Example" } });

async function zipOf(entries: Record<string, string | Buffer>): Promise<string> {
  const path = join(await tempDir(), "bundle.zip");
  await writeZip(path, Object.entries(entries).map(([name, data]) => ({ name, data: Buffer.from(data) })), { level: 6 });
  return path;
}

describe("openBundle", () => {
  it("reads and checks cumulocity.json once, placing its findings in the entry", async () => {
    const bundle = await openBundle(await zipOf({ "cumulocity.json": MANIFEST.replace('"svc"', '"My_Service"'), "image.tar": dockerArchive(syntheticImage()) }));
    expect(bundle.findings).toEqual([]);
    expect(bundle.manifest).toMatchObject({ entry: "cumulocity.json", manifest: undefined, document: { name: "My_Service" } });
    expect(bundle.manifest?.errors).toMatchObject([{ rule: "name-format", entry: "cumulocity.json", line: 1 }]);
    await bundle.close();
  });

  it("does not read a cumulocity.json over 1 MB: it is a finding", async () => {
    const huge = `{"name": "svc", "padding": "${"x".repeat(MANIFEST_MAX_BYTES)}"}`;
    const bundle = await openBundle(await zipOf({ "cumulocity.json": huge, "image.tar": "" }));
    expect(bundle.manifest).toBeUndefined();
    expect(bundle.findings).toMatchObject([{ rule: "zip-entries", entry: "cumulocity.json", message: expect.stringMatching(/^cumulocity\.json has 1\.0 MB; a manifest is a few kilobytes\.$/) }]);
    await bundle.close();
  });

  it("refuses what is not a zip", async () => {
    const dir = await tempDir({ "x.zip": "not a zip" });
    await expect(openBundle(join(dir, "x.zip"))).rejects.toBeInstanceOf(ZipFormatError);
  });
});
