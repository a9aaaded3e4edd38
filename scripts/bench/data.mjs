// Data: the sandbox's measurement API on its embedded database (issue 11).
//   ingest: 100,000 measurements POSTed in collections of 1,000 (one after the other, as one
//           client would); rate, and the peak RSS of the sandbox process (VmHWM).
//   query:  one device's measurements in a one-hour window, with 1,000,000 stored across
//           1,000 devices; median latency of the HTTP request over 50 windows.
// Goals: >= 20,000 measurements/s, query < 50 ms, sandbox RSS < 300 MB (10^6 bytes).
// These goals are absolute (no reference tool), so the rows carry `met` themselves.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { median } from "./measure.mjs";

const CLI = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));
const RATE_GOAL = 20_000;
const QUERY_GOAL_MS = 50;
const RSS_GOAL_MB = 300;
const BATCH = 1_000;
const DEVICES = 1_000;
/** One measurement per device every 36 s: a one-hour window holds 100 of one device. */
const STEP_MS = 36_000;
const START = Date.parse("2024-01-01T00:00:00Z");

export const name = "data";

export async function run({ ingest = 100_000, stored = 1_000_000, queries = 50 } = {}) {
  const work = await mkdtemp(join(tmpdir(), "c8y-ms-bench-data-"));
  const sandbox = await startSandbox(join(work, "sandbox"));
  try {
    const api = client(sandbox.ready);
    // Open the database and make the devices before anything is timed.
    const devices = [];
    for (let i = 0; i < DEVICES; i++) devices.push((await api.post("/inventory/managedObjects", "managedObject", { name: `bench-${i}`, c8y_IsDevice: {} })).id);

    let sent = 0;
    const batch = () => {
      const measurements = [];
      for (let i = 0; i < BATCH; i++, sent++) {
        const device = devices[sent % DEVICES];
        const time = new Date(START + Math.floor(sent / DEVICES) * STEP_MS).toISOString();
        measurements.push({ source: { id: device }, time, type: "c8y_Temperature", c8y_Temperature: { T: { value: sent % 100, unit: "C" } } });
      }
      return { measurements };
    };
    const started = performance.now();
    while (sent < ingest) await api.post("/measurement/measurements", "measurementCollection", batch());
    const seconds = (performance.now() - started) / 1000;
    const rate = ingest / seconds;
    const ingestPeak = await peakMB(sandbox.pid);

    while (sent < stored) await api.post("/measurement/measurements", "measurementCollection", batch());
    const hours = Math.floor((stored / DEVICES) * STEP_MS / 3_600_000);
    const latencies = [];
    let found = 0;
    for (let i = 0; i < queries; i++) {
      const device = devices[(i * 37) % DEVICES];
      const from = new Date(START + ((i * 7) % hours) * 3_600_000);
      const to = new Date(from.getTime() + 3_600_000);
      const path = `/measurement/measurements?source=${device}&dateFrom=${from.toISOString()}&dateTo=${to.toISOString()}&pageSize=2000`;
      const t = performance.now();
      const body = await api.get(path);
      latencies.push(performance.now() - t);
      found += body.measurements.length;
    }
    const queryMs = median(latencies);
    const peak = await peakMB(sandbox.pid);
    return [
      {
        entry: `ingest ${ingest.toLocaleString("en")} measurements (collections of ${BATCH})`,
        reference: "goal",
        ours: `${Math.round(rate).toLocaleString("en")} /s (${seconds.toFixed(1)} s)`,
        theirs: `>= ${RATE_GOAL.toLocaleString("en")} /s`,
        ratio: RATE_GOAL / rate,
        goal: 1,
        memoryOk: ingestPeak < RSS_GOAL_MB,
        extra: `sandbox peak RSS ${ingestPeak.toFixed(0)} MB (goal < ${RSS_GOAL_MB} MB)`,
      },
      {
        entry: `one device, one hour, of ${stored.toLocaleString("en")} stored`,
        reference: "goal",
        ours: `${queryMs.toFixed(1)} ms median`,
        theirs: `< ${QUERY_GOAL_MS} ms`,
        ratio: queryMs / QUERY_GOAL_MS,
        goal: 1,
        memoryOk: peak < RSS_GOAL_MB,
        extra: `${(found / queries).toFixed(0)} measurements per answer; sandbox peak RSS ${peak.toFixed(0)} MB (goal < ${RSS_GOAL_MB} MB)`,
      },
    ];
  } finally {
    await sandbox.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The highest resident set the process has had (VmHWM), in MB. */
async function peakMB(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
  return (kb * 1024) / 1e6;
}

function client(ready) {
  const admin = ready.users.find((u) => u.role === "admin");
  const authorization = `Basic ${Buffer.from(`${admin.tenant}/${admin.user}:${admin.password}`).toString("base64")}`;
  const call = async (method, path, type, body) => {
    const response = await fetch(`${ready.url}${path}`, {
      method,
      headers: { authorization, accept: "application/json", ...(body ? { "content-type": `application/vnd.com.nsn.cumulocity.${type}+json` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return { post: (path, type, body) => call("POST", path, type, body), get: (path) => call("GET", path) };
}

async function startSandbox(dataDir) {
  const child = spawn(process.execPath, [CLI, "sandbox", "--port", "0", "--data-dir", dataDir, "--no-containers", "--json"], {
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
    pid: child.pid,
    stop: async () => {
      child.kill("SIGINT");
      await exited;
    },
  };
}
