import { describe, expect, it } from "vitest";
import { JobSlots, runInWorker, WorkerLimitError } from "./bounded-worker.js";

const script = (code: string) => new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort, workerData } from "node:worker_threads";\n${code}`)}`);
const LIMITS = { timeoutMs: 10_000, heapMb: 64 };

describe("runInWorker", () => {
  it("resolves with the worker's one message, computed from its data", async () => {
    await expect(runInWorker(script("parentPort.postMessage(workerData.n * 2);"), { n: 21 }, LIMITS)).resolves.toBe(42);
  });

  it("terminates a worker that runs past its time limit", async () => {
    const error = await runInWorker(script("for (;;) {}"), undefined, { ...LIMITS, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerLimitError);
    expect(error).toMatchObject({ limit: "time", message: "did not finish within 0 s" });
  });

  it("stops a worker that grows past its heap limit, and the caller's thread goes on", async () => {
    const error = await runInWorker(script("const keep = []; for (;;) keep.push(new Array(1e5).fill({ a: 1 }));"), undefined, { ...LIMITS, heapMb: 32 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerLimitError);
    expect(error).toMatchObject({ limit: "memory", message: "needed more than 32 MB of memory" });
  });

  it("passes on a worker's own failure as it is", async () => {
    await expect(runInWorker(script("throw new TypeError('a bug');"), undefined, LIMITS)).rejects.toThrow("a bug");
  });

  it("stops the worker when the caller aborts, and refuses to start once aborted", async () => {
    const controller = new AbortController();
    const running = runInWorker(script("setInterval(() => {}, 1000);"), undefined, LIMITS, controller.signal);
    controller.abort(new Error("closing"));
    await expect(running).rejects.toThrow("closing");
    await expect(runInWorker(script("parentPort.postMessage(1);"), undefined, LIMITS, controller.signal)).rejects.toThrow("closing");
  });
});

describe("JobSlots", () => {
  it("runs at most its size at once, the rest in order as slots free up", async () => {
    const slots = new JobSlots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const jobs = [0, 1, 2, 3, 4].map((i) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      }),
    );
    for (let released = 0; released < 5; released++) {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    await expect(Promise.all(jobs)).resolves.toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
