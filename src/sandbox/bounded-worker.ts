import { Worker } from "node:worker_threads";

/** How far one job may go before it is stopped. */
export interface WorkerLimits {
  /** Wall-clock time, after which the worker is terminated. */
  timeoutMs: number;
  /** The worker's JavaScript heap (V8 old generation), in MB. */
  heapMb: number;
}

/** The job was stopped at one of its limits; `limit` says which. */
export class WorkerLimitError extends Error {
  readonly limit: "time" | "memory";
  constructor(limit: "time" | "memory", message: string) {
    super(message);
    this.limit = limit;
  }
}

/**
 * Runs one job in its own worker thread, so the server's thread stays free for every other
 * request however long or hungry the job is. The worker posts exactly one message, its
 * result; it is terminated when it passes `limits`, and when `signal` aborts.
 * @throws {WorkerLimitError} when the job hit its time or memory limit
 * @throws {Error} when the worker failed in any other way (a bug, not the input)
 */
export function runInWorker<T>(script: URL, data: unknown, limits: WorkerLimits, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error("Stopped."));
      return;
    }
    const worker = new Worker(script, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: limits.heapMb } });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      outcome();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new WorkerLimitError("time", `did not finish within ${Math.round(limits.timeoutMs / 1000)} s`))),
      limits.timeoutMs,
    );
    const onAbort = () => settle(() => reject(signal?.reason instanceof Error ? signal.reason : new Error("Stopped.")));
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (message: T) => settle(() => resolve(message)));
    worker.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ERR_WORKER_OUT_OF_MEMORY") settle(() => reject(new WorkerLimitError("memory", `needed more than ${limits.heapMb} MB of memory`)));
      else settle(() => reject(error));
    });
    worker.once("exit", (code) => settle(() => reject(new Error(`The worker exited with code ${code} before it answered.`))));
  });
}

/** At most `size` jobs at a time; the others wait their turn in order. */
export class JobSlots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    // A finished job hands its slot straight to the next waiter, so no newcomer slips in between.
    if (this.#busy >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    }
  }
}
