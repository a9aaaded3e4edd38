// Upload: `c8y-ms deploy big.zip --no-subscribe` against `curl -F file=@big.zip` to the same
// sandbox application, a 2 GiB zip each time. Goal: within 1.1x of curl's time, peak RSS of
// c8y-ms under 120 MB (10^6 bytes; the zip streams from disk, memory must not grow with its size).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compare } from "./measure.mjs";

const CLI = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));
const GIB = 1024 * 1024 * 1024;
const RSS_GOAL_MB = 120;

export const name = "upload";

export async function run({ bytes = 2 * GIB, runs = 5 } = {}) {
  const work = await mkdtemp(join(tmpdir(), "c8y-ms-bench-upload-"));
  const sandbox = await startSandbox(join(work, "sandbox"), bytes + 64 * 1024 * 1024);
  try {
    const zip = await makeZip(work, bytes);
    const size = (await stat(zip)).size;
    const admin = sandbox.ready.users.find((u) => u.role === "admin");
    const auth = `${admin.tenant}/${admin.user}:${admin.password}`;
    const app = await createApplication(sandbox.ready.url, auth, "bench-upload");
    const env = { ...process.env, CI: "true", C8Y_HOST: sandbox.ready.url, C8Y_TENANT: admin.tenant, C8Y_USER: admin.user, C8Y_PASSWORD: admin.password };
    const result = compare({
      // --size-limit: like the sandbox, accept more than the platform's 500 MiB.
      a: { command: process.execPath, args: [CLI, "deploy", zip, "--no-subscribe", "--size-limit", String(size)], env },
      b: {
        command: "curl",
        args: ["-sSf", "-o", "/dev/null", "-u", auth, "-H", "accept: application/json", "-F", `file=@${zip};type=application/zip`, `${sandbox.ready.url}/application/applications/${app.id}/binaries`],
      },
      runs,
      warmup: 1,
    });
    const mbps = (seconds) => `${((size / seconds) / 1e6).toFixed(0)} MB/s`;
    return [
      {
        entry: `upload ${(size / GIB).toFixed(2)} GiB zip`,
        reference: "curl -F file=@zip",
        ours: `${result.a.wall.toFixed(2)} s (${mbps(result.a.wall)})`,
        theirs: `${result.b.wall.toFixed(2)} s (${mbps(result.b.wall)})`,
        ratio: result.timeRatio,
        goal: 1.1,
        memoryOk: result.a.peakMB < RSS_GOAL_MB,
        extra: `peak RSS ${result.a.peakMB.toFixed(0)} MB (goal < ${RSS_GOAL_MB} MB) vs curl ${result.b.peakMB.toFixed(0)} MB`,
      },
    ];
  } finally {
    await sandbox.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** `c8y-ms sandbox --no-containers` with an upload limit above the zip. */
async function startSandbox(dataDir, uploadLimit) {
  const child = spawn(process.execPath, [CLI, "sandbox", "--port", "0", "--data-dir", dataDir, "--no-containers", "--upload-limit", String(uploadLimit), "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CI: "true" },
  });
  let text = "";
  const ready = await new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      try {
        resolve(JSON.parse(text));
      } catch {
        // not complete yet
      }
    });
    child.once("exit", (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    ready,
    stop: async () => {
      child.kill("SIGINT");
      await exited;
    },
  };
}

async function createApplication(url, auth, appName) {
  const response = await fetch(`${url}/application/applications`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(auth).toString("base64")}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ name: appName, key: appName, type: "MICROSERVICE", contextPath: appName }),
  });
  if (response.status !== 201) throw new Error(`creating ${appName}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * A valid platform zip of about `bytes`: cumulocity.json and a docker-archive image.tar whose
 * one layer holds a file of patterned bytes, stored (zip -0) so both tools send the same bytes.
 * Tar headers are written by hand so the 2 GiB pass through the disk only twice.
 */
async function makeZip(dir, bytes) {
  const payloadBytes = bytes - 64 * 1024;
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;

  const layerHeader = tarHeader("payload.bin", payloadBytes);
  const layerTail = Buffer.concat([padding(payloadBytes), Buffer.alloc(1024)]);
  const layerSize = layerHeader.length + payloadBytes + layerTail.length;
  const diff = createHash("sha256");
  diff.update(layerHeader);
  forEachChunk(payloadBytes, chunk, (piece) => diff.update(piece));
  diff.update(layerTail);
  const diffId = diff.digest("hex");

  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["sh"], ExposedPorts: { "80/tcp": {} } }, rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] } }),
  );
  const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ["bench/upload:1.0.0"], Layers: [`${diffId}/layer.tar`] }]));

  const imageTar = join(dir, "image.tar");
  const out = createWriteStream(imageTar, { highWaterMark: 4 * 1024 * 1024 });
  const write = (buffer) => (out.write(buffer) ? undefined : new Promise((resolve) => out.once("drain", resolve)));
  for (const [entry, data] of [[configName, config], ["manifest.json", manifest]]) {
    await write(tarHeader(entry, data.length));
    await write(data);
    await write(padding(data.length));
  }
  await write(tarHeader(`${diffId}/layer.tar`, layerSize));
  await write(layerHeader);
  for (let left = payloadBytes; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
  await write(layerTail);
  await write(padding(layerSize));
  await write(Buffer.alloc(1024));
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));

  const manifestFile = join(dir, "cumulocity.json");
  await writeFile(manifestFile, JSON.stringify({ apiVersion: "2", name: "bench-upload", version: "1.0.0", provider: { name: "c8y-ms bench" } }));
  const zip = join(dir, "bench-upload-1.0.0.zip");
  const zipped = spawnSync("zip", ["-q", "-0", "-j", zip, manifestFile, imageTar], { stdio: "inherit" });
  if (zipped.status !== 0) throw new Error("zip failed");
  await rm(imageTar);
  return zip;
}

function forEachChunk(total, chunk, fn) {
  for (let left = total; left > 0; left -= chunk.length) fn(left >= chunk.length ? chunk : chunk.subarray(0, left));
}

function padding(size) {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A ustar header for a regular file (sizes up to 8 GiB fit the octal field). */
function tarHeader(path, size) {
  const header = Buffer.alloc(512);
  header.write(path, 0, 100, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  header.write(`${Math.floor(Date.UTC(2024, 0, 1) / 1000).toString(8).padStart(11, "0")}\0`, 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return header;
}
