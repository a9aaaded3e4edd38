import { createHash } from "node:crypto";
import { join } from "node:path";
import { CHUNK_BYTES } from "../../src/archive/parallel-deflate.js";
import { writeZip } from "../../src/archive/zip-writer.js";
import { tempDir } from "./tmp.js";

/** 3.5 deflate chunks of mixed text and noise: crosses chunk boundaries with matches that span them. */
export function mixedContent(size = Math.floor(CHUNK_BYTES * 3.5)): Buffer {
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

export const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

export const ZIP_MANIFEST = Buffer.from('{\n  "name": "svc",\n  "version": "1.0.0"\n}\n');

/** A zip as pack writes it, cumulocity.json and image.tar (holding `data`), in a fresh directory. */
export async function zipOf(level: number, data: Buffer): Promise<{ dir: string; zip: string; result: { bytes: number; sha256: string } }> {
  const dir = await tempDir({ "image.tar": data });
  const zip = join(dir, "out.zip");
  const result = await writeZip(zip, [{ name: "cumulocity.json", data: ZIP_MANIFEST }, { name: "image.tar", path: join(dir, "image.tar") }], { level });
  return { dir, zip, result };
}
