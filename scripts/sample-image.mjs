// Writes a small prebuilt image as `docker save` of Docker up to 24 writes it (a classic
// docker-archive), for the demo on machines where no container engine can run:
//   node scripts/sample-image.mjs <out.tar> <name:tag>
// The image is linux/amd64 and exposes port 80, so pack and the sandbox accept it; nothing
// runs it. Needs dist/ (npm run build): it writes tar entries with c8y-ms's own tar writer.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { paddingOf } from "../dist/archive/tar.js";
import { TAR_END, tarHeader } from "../dist/archive/tar-writer.js";

const [out, ref] = process.argv.slice(2);
if (!out || !ref) {
  console.error("usage: node scripts/sample-image.mjs <out.tar> <name:tag>");
  process.exit(2);
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const entry = (name, data) => [tarHeader({ name, size: data.length }), data, Buffer.alloc(paddingOf(data.length))];
const tar = (files) => Buffer.concat([...Object.entries(files).flatMap(([name, data]) => entry(name, Buffer.from(data))), TAR_END]);

const layer = tar({
  "app/server.js": "require('node:http').createServer((req, res) => res.end('{\"status\":\"UP\"}')).listen(process.env.SERVER_PORT || 80);\n",
});
const config = Buffer.from(
  JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["node", "/app/server.js"], ExposedPorts: { "80/tcp": {} }, Env: ["PATH=/usr/bin:/bin"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layer)}`] },
    history: [{ created_by: "COPY server.js /app/ # c8y-ms sample image" }],
  }),
);
const configName = `${sha256(config)}.json`;
const layerName = `${sha256(layer)}/layer.tar`;
writeFileSync(
  out,
  tar({
    [layerName]: layer,
    [configName]: config,
    "manifest.json": JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: [layerName] }]),
  }),
);
console.error(`Wrote ${out}: ${ref}, linux/amd64, 1 layer`);
