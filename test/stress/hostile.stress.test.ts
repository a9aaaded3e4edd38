import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { crc32, createDeflateRaw } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkManifestText } from "../../src/manifest/check.js";
import { runCli } from "../helpers/cli.js";
import { tarBuffer } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";
import { buildZip, MANIFEST_BYTES, tarBlock } from "../hostile/archives.js";
import { SECRET, spawnableArgv } from "../hostile/argv.js";
import { MANIFEST_ARBITRARIES, MANIFEST_PROPERTY_RUNS } from "../hostile/manifests.js";

/**
 * The slow tail of the hostile-input tests (`npm run test:stress`, which CI runs): ten times
 * the in-process property runs, two hundred more spawned CLI runs, and a zip bomb that really
 * inflates to 4 GiB, checked by the built CLI with a 256 MB heap.
 */
const BOUNDED = { NODE_OPTIONS: "--max-old-space-size=256" };

describe("hostile manifests, ten times over", () => {
  for (const [name, runs] of Object.entries(MANIFEST_PROPERTY_RUNS) as [keyof typeof MANIFEST_PROPERTY_RUNS, number][]) {
    it(`${name}: ${runs * 10} cases`, () => {
      fc.assert(
        fc.property(MANIFEST_ARBITRARIES[name], ({ text, file }) => {
          const report = checkManifestText(text, file);
          expect(report.manifest === undefined).toBe(report.errors.length > 0);
        }),
        { numRuns: runs * 10 },
      );
    });
  }
});

describe("the spawned CLI, two hundred more times", () => {
  const manifests = Object.values(MANIFEST_ARBITRARIES).flatMap((arbitrary) => fc.sample(arbitrary, { numRuns: 15, seed: 7 }));
  it(`validate --json on ${manifests.length} hostile manifests`, async () => {
    for (const input of manifests) {
      const dir = await tempDir();
      await writeFile(join(dir, input.file), input.text);
      const run = await runCli(["validate", input.file, "--json"], { cwd: dir, env: BOUNDED });
      expect([0, 3], run.stderr).toContain(run.exitCode);
      expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    }
  });

  const lines = fc.sample(spawnableArgv, { numRuns: 100, seed: 7 });
  it(`${lines.length} command lines`, async () => {
    for (const args of lines) {
      const run = await runCli(args, { cwd: await tempDir(), env: { ...BOUNDED, C8Y_PASSWORD: SECRET }, secrets: [SECRET], timeout: 120_000 });
      expect([0, 1, 2, 3, 4], `${JSON.stringify(args)}\n${run.stderr}`).toContain(run.exitCode);
      expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    }
  });
});

describe("a zip bomb that inflates for real", () => {
  it("image.tar: a 4 GiB layer of zeros in a few MB is read to its end with a 256 MB heap and refused", async () => {
    const dir = await tempDir();
    const layerBytes = 4 * 1024 * 1024 * 1024 - 64 * 1024;
    // The image's small files, then a layer header claiming the zeros that follow.
    const head = Buffer.concat([tarBuffer([{ name: "manifest.json", data: JSON.stringify([{ Config: "c.json", RepoTags: ["bomb:1"], Layers: ["l/layer.tar"] }]) }, { name: "c.json", data: "{}" }], { end: false }), tarBlock({ name: "l/layer.tar", size: layerBytes })]);
    const tail = Buffer.alloc(1024);
    const tarBytes = head.length + layerBytes + tail.length;
    const deflated = join(dir, "image.deflate");
    let crc = crc32(head);
    const zeros = Buffer.alloc(1024 * 1024);
    async function* tarStream() {
      yield head;
      for (let left = layerBytes; left > 0; left -= zeros.length) {
        const piece = left >= zeros.length ? zeros : zeros.subarray(0, left);
        crc = crc32(piece, crc);
        yield piece;
      }
      crc = crc32(tail, crc);
      yield tail;
    }
    await pipeline(tarStream, createDeflateRaw({ level: 1 }), createWriteStream(deflated));
    const { readFile } = await import("node:fs/promises");
    const compressed = await readFile(deflated);
    // buildZip deflates what it is given; this entry is already deflated, so it is laid out by hand as stored-then-patched.
    const zip = buildZip([{ name: "cumulocity.json", data: MANIFEST_BYTES }, { name: "image.tar", data: compressed, method: 0, crc: crc >>> 0 }]);
    // Mark image.tar deflated with its inflated size, in its local header and its directory record.
    const local = zip.indexOf("image.tar") - 30;
    zip.writeUInt16LE(8, local + 8);
    zip.writeUInt32LE(tarBytes, local + 22);
    const central = zip.lastIndexOf("image.tar") - 46;
    zip.writeUInt16LE(8, central + 10);
    zip.writeUInt32LE(tarBytes, central + 24);
    await writeFile(join(dir, "bomb.zip"), zip);
    expect(zip.length).toBeLessThan(20 * 1024 * 1024);

    const run = await runCli(["validate", "bomb.zip", "--json"], { cwd: dir, env: BOUNDED, timeout: 600_000 });
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).not.toMatch(/Unexpected error|\n\s+at /);
    expect(JSON.stringify(run.json())).toMatch(/image-(digest|layer-count|format)/);
  });
});
