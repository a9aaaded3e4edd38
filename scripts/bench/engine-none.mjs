// Engine-less pack (issue 14): `c8y-ms pack --engine none` of the node template against what
// users run today for the same project, `docker build` + `docker save` + `zip`, in the same
// run and with a warm cache on both sides (one unmeasured pair first: Docker's layer cache
// and c8y-ms's blob cache both hold everything). Goals: at most 0.3x the time, peak RSS under
// 200 MB (10^6 bytes). Needs docker with the offline base image and the test registry
// (scripts/make-base-images.sh, scripts/ensure-registry.sh).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compare } from "./measure.mjs";

export const name = "engine-none";

const CLI = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));
const REGISTRY = process.env.C8Y_MS_TEST_REGISTRY ?? "127.0.0.1:5055";
const BASE = "c8y-ms-base/node:local";

export async function run({ runs = Number(process.env.ENGINE_NONE_BENCH_RUNS ?? 5) } = {}) {
  const missing = prerequisites();
  if (missing) {
    console.error(`  skipped: ${missing}`);
    return [];
  }
  const work = mkdtempSync(join(tmpdir(), "c8y-ms-bench-none-"));
  const tag = `c8y-ms-bench/none-node:${process.pid}`;
  try {
    execFileSync(process.execPath, [CLI, "init", "svc", "--template", "node", "--no-git", "--quiet"], { cwd: work, stdio: "ignore" });
    const project = join(work, "svc");
    const cache = join(work, "cache");
    const ours = join(work, "ours.zip");
    const result = compare({
      a: {
        command: process.execPath,
        args: [CLI, "pack", "--engine", "none", "--build-arg", `BASE_IMAGE=${REGISTRY}/${BASE}`, "--output", ours, "--force", "--quiet"],
        cwd: project,
        env: { ...process.env, XDG_CACHE_HOME: cache },
      },
      b: {
        command: "sh",
        args: ["-c", `docker build -q --network host --build-arg BASE_IMAGE=${BASE} -t ${tag} . >/dev/null && docker save -o ../image.tar ${tag} && cd .. && rm -f theirs.zip && cp svc/cumulocity.json . && zip -q -6 -X theirs.zip cumulocity.json image.tar`],
        cwd: project,
      },
      runs,
      warmup: 1,
    });
    return [
      {
        entry: "pack --engine none (node template)",
        reference: "docker build + save + zip -6",
        ours: `${result.a.wall.toFixed(2)} s`,
        theirs: `${result.b.wall.toFixed(2)} s`,
        ratio: result.timeRatio,
        goal: 0.3,
        memoryOk: result.a.peakMB < 200,
        extra: `peak RSS ${result.a.peakMB.toFixed(0)} MB (goal < 200 MB); ${runs} runs, warm caches`,
      },
    ];
  } finally {
    spawnSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
    rmSync(work, { recursive: true, force: true });
  }
}

function prerequisites() {
  if (spawnSync("docker", ["image", "inspect", BASE], { stdio: "ignore" }).status !== 0) return `docker has no ${BASE} (scripts/make-base-images.sh)`;
  if (spawnSync("curl", ["-fsS", "-o", "/dev/null", `http://${REGISTRY}/v2/`], { stdio: "ignore" }).status !== 0) return `no registry on ${REGISTRY} (scripts/ensure-registry.sh)`;
  if (spawnSync("zip", ["-v"], { stdio: "ignore" }).status !== 0) return "zip is not installed";
  return undefined;
}
