// Pack: `c8y-ms pack --image-tar` of a 2 GiB docker-archive against Info-ZIP `zip` at the
// same level, in the same run. Goals (issue 5): faster than zip, output within 2% of zip's
// size, peak RSS under 150 MB (10^6 bytes). The image is built once from real files of this
// machine (binaries, libraries, text, some already-compressed files) and cached outside the
// repository; where Docker has the tests' base image, the same comparison runs on it too.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compare } from "./measure.mjs";

export const name = "pack";

const CLI = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "c8y-ms-bench", "pack-2gib");
const TARGET = 2 * 1024 ** 3;
const MIB = 1024 * 1024;

/** Three layers like a service image's: the OS, a language runtime, the application with its dependencies and assets. */
const LAYERS = [
  { share: 0.35, createdBy: "/bin/sh -c #(nop) ADD file:rootfs in /", roots: ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/sbin", "/usr/libexec", "/lib"] },
  { share: 0.35, createdBy: "/bin/sh -c apt-get install -y runtime", roots: ["/usr/lib/jvm", "/usr/local/bin", "/usr/lib/python3.11", join(homedir(), ".pyenv"), "/opt"] },
  { share: 0.3, createdBy: "/bin/sh -c npm ci --omit=dev", roots: [join(REPO, "node_modules"), "/usr/share", "/usr/lib/node_modules"] },
];
/** Where a layer whose own roots run short takes the rest from (files are never used twice). */
const MORE_ROOTS = ["/usr", "/opt", join(homedir(), ".pyenv"), join(homedir(), ".cache")];

export async function run({ runs = Number(process.env.PACK_BENCH_RUNS ?? 3), levels = (process.env.PACK_BENCH_LEVELS ?? "6").split(",").map(Number) } = {}) {
  const out = join(tmpdir(), `c8y-ms-bench-pack-${process.pid}`);
  mkdirSync(out, { recursive: true });
  const rows = [];
  try {
    const synthetic = await ensureImage();
    for (const level of levels) rows.push(...comparePack({ project: synthetic, label: "pack 2 GiB", level, runs, out, sizeLimit: 8 * TARGET }));
    // A service image as docker saves it, where this machine has one: real compressibility.
    const real = ensureRealImage();
    if (real) for (const level of levels) rows.push(...comparePack({ project: real.project, label: `pack ${real.name}`, level, runs, out }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

/** `c8y-ms pack --image-tar` against `zip` at the same level on one project: a time row and a size row. */
function comparePack({ project, label, level, runs, out, sizeLimit }) {
  const ours = join(out, "ours.zip");
  const theirs = join(out, "theirs.zip");
  const sizes = { ours: [], theirs: [] };
  const clean = () => {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true }); // zip adds to an existing archive: start from nothing
  };
  const limit = sizeLimit ? ["--size-limit", String(sizeLimit)] : [];
  const result = compare({
    a: { command: process.execPath, args: [CLI, "pack", "--image-tar", "image.tar", "--output", ours, "--compression-level", String(level), ...limit, "--force", "--quiet"], cwd: project, before: clean, after: () => sizes.ours.push(statSync(ours).size) },
    b: { command: "zip", args: ["-q", `-${level}`, "-X", theirs, "cumulocity.json", "image.tar"], cwd: project, before: clean, after: () => sizes.theirs.push(statSync(theirs).size) },
    runs,
    warmup: 0,
  });
  clean();
  const ourBytes = sizes.ours.at(-1);
  const theirBytes = sizes.theirs.at(-1);
  const imageBytes = statSync(join(project, "image.tar")).size;
  return [
    {
      entry: `${label}, level ${level}: time`,
      reference: `zip -${level}`,
      ours: `${result.a.wall.toFixed(1)} s`,
      theirs: `${result.b.wall.toFixed(1)} s`,
      ratio: result.timeRatio,
      goal: 1,
      memoryOk: result.a.peakMB < 150,
      extra: `peak RSS ${result.a.peakMB.toFixed(0)} MB (goal < 150 MB) vs ${result.b.peakMB.toFixed(0)} MB; ${(imageBytes / result.a.wall / MIB).toFixed(0)} MiB/s vs ${(imageBytes / result.b.wall / MIB).toFixed(0)} MiB/s`,
    },
    {
      entry: `${label}, level ${level}: size`,
      reference: `zip -${level}`,
      ours: `${(ourBytes / MIB).toFixed(1)} MiB`,
      theirs: `${(theirBytes / MIB).toFixed(1)} MiB`,
      ratio: ourBytes / theirBytes,
      goal: 1.02,
      extra: `${ourBytes} vs ${theirBytes} bytes; ${runs} runs each, medians`,
    },
  ];
}

/** The image our tests and the quick start build on (scripts/make-base-images.sh), saved once into the cache. */
function ensureRealImage() {
  const ref = "c8y-ms-base/node:local";
  let id;
  try {
    id = execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    console.error(`bench pack: docker has no ${ref} (scripts/make-base-images.sh makes it); skipping the real-image rows`);
    return undefined;
  }
  const project = join(dirname(CACHE), `real-${id.slice(7, 19)}`);
  if (!existsSync(join(project, "image.tar"))) {
    mkdirSync(project, { recursive: true });
    execFileSync("docker", ["save", "--output", join(project, "image.partial"), ref]);
    execFileSync("mv", [join(project, "image.partial"), join(project, "image.tar")]);
    writeFileSync(join(project, "cumulocity.json"), JSON.stringify({ apiVersion: "2", name: "bench-real", version: "1.0.0", provider: { name: "c8y-ms bench" }, replicas: 2 }, null, 2));
  }
  return { project, name: `${ref} (${(statSync(join(project, "image.tar")).size / MIB).toFixed(0)} MiB)` };
}

/** The cached project: cumulocity.json and a 2 GiB image.tar (docker-archive), made on first use. */
async function ensureImage() {
  const image = join(CACHE, "image.tar");
  if (existsSync(image) && existsSync(join(CACHE, "cumulocity.json"))) return CACHE;
  console.error(`bench pack: building a 2 GiB image from this machine's files in ${CACHE} (once)...`);
  rmSync(CACHE, { recursive: true, force: true });
  const work = join(CACHE, "work");
  mkdirSync(work, { recursive: true });

  const diffIds = [];
  const layerNames = [];
  const used = new Set();
  for (const [index, layer] of LAYERS.entries()) {
    const files = pickFiles([...layer.roots, ...MORE_ROOTS], Math.floor(TARGET * layer.share) - 4 * MIB, used);
    const list = join(work, `layer${index}.list`);
    writeFileSync(list, `${files.join("\0")}\0`);
    const tarPath = join(work, `layer${index}.tar`);
    execFileSync("tar", ["--create", "--file", tarPath, "--null", "--files-from", list, "--absolute-names", "--hard-dereference", "--owner=0", "--group=0", "--numeric-owner"], { stdio: ["ignore", "ignore", "inherit"] });
    const diffId = `sha256:${await sha256File(tarPath)}`;
    const dir = join(CACHE, diffId.slice(7));
    mkdirSync(dir);
    execFileSync("mv", [tarPath, join(dir, "layer.tar")]);
    diffIds.push(diffId);
    layerNames.push(`${diffId.slice(7)}/layer.tar`);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["node", "server.js"], ExposedPorts: { "80/tcp": {} } },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: LAYERS.map((l) => ({ created_by: l.createdBy })),
    }),
  );
  const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
  writeFileSync(join(CACHE, configName), config);
  writeFileSync(join(CACHE, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: ["bench-pack:1.0.0"], Layers: layerNames }]));
  writeFileSync(join(CACHE, "image.partial"), "");
  execFileSync("tar", ["--create", "--file", "image.partial", "--owner=0", "--group=0", "--numeric-owner", ...layerNames, configName, "manifest.json"], { cwd: CACHE });
  for (const layer of layerNames) rmSync(join(CACHE, layer.split("/")[0]), { recursive: true });
  rmSync(join(CACHE, configName));
  rmSync(join(CACHE, "manifest.json"));
  rmSync(work, { recursive: true });
  execFileSync("mv", [join(CACHE, "image.partial"), image]);
  writeFileSync(join(CACHE, "cumulocity.json"), JSON.stringify({ apiVersion: "2", name: "bench-pack", version: "1.0.0", provider: { name: "c8y-ms bench" }, replicas: 2 }, null, 2));
  console.error(`bench pack: image.tar has ${(statSync(image).size / MIB).toFixed(0)} MiB`);
  return CACHE;
}

/** Regular files under `roots`, in a stable order, until `budget` bytes; files seen by an earlier layer are skipped. */
function pickFiles(roots, budget, used) {
  const picked = [];
  let total = 0;
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const entry of names) {
      if (total >= budget) return;
      const path = join(dir, entry);
      if (path === CACHE) continue;
      let info;
      try {
        info = lstatSync(path);
      } catch {
        continue;
      }
      if (info.isDirectory()) walk(path);
      else if (info.isFile() && info.size > 0 && info.size < 256 * MIB && !used.has(path)) {
        used.add(path);
        picked.push(path);
        total += info.size;
      }
    }
  };
  for (const root of roots) if (total < budget && !root.startsWith(CACHE)) walk(root);
  if (total < budget * 0.5) throw new Error(`only ${total} bytes of files under ${roots.join(", ")}; the pack bench needs more`);
  return picked;
}

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}
