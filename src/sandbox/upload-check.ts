import { JobSlots, runInWorker, WorkerLimitError, type WorkerLimits } from "./bounded-worker.js";
import { invalidDataError } from "./applications.js";
import { ApiError } from "./http.js";
import type { Logger } from "../ui/logger.js";
import type { CheckedUpload } from "./zip-check.js";

/** What the worker is asked to check (upload-check-worker.ts). */
export interface CheckRequest {
  path: string;
  sizeLimit: number;
  fileName: string | undefined;
}

/** The worker's one answer: the accepted upload, or the platform's refusal. */
export type CheckAnswer = { ok: true; upload: CheckedUpload } | { ok: false; status: number; error: string; message: string };

/**
 * Checking a 500 MB zip reads it once (inflate, digests, CRC-32): seconds on a laptop. Two
 * minutes is far past that and still bounds a hostile zip; the heap is five times what the
 * largest real check needs (about 50 MB).
 */
export const UPLOAD_CHECK_LIMITS: WorkerLimits = { timeoutMs: 120_000, heapMb: 256 };
/** Checks that run at once; more would only share the same cores. */
const PARALLEL_CHECKS = 2;

const WORKER = new URL("./upload-check-worker.js", import.meta.url);

/**
 * Runs the platform's upload checks (zip-check.ts) off the server's thread, within time and
 * memory limits, so one upload never holds up other requests.
 */
export class UploadChecker {
  readonly #logger: Pick<Logger, "debug">;
  readonly #limits: WorkerLimits;
  readonly #slots = new JobSlots(PARALLEL_CHECKS);
  readonly #closing = new AbortController();

  constructor(logger: Pick<Logger, "debug">, limits: WorkerLimits = UPLOAD_CHECK_LIMITS) {
    this.#logger = logger;
    this.#limits = limits;
  }

  /**
   * @throws {ApiError} 422 for an invalid upload (also one that passes the check's limits),
   *   or the status the check chose (409 for a taken context path...)
   */
  async check(path: string, sizeLimit: number, fileName: string | undefined): Promise<CheckedUpload> {
    const request: CheckRequest = { path, sizeLimit, fileName };
    let answer: CheckAnswer;
    try {
      answer = await this.#slots.run(() => {
        this.#logger.debug(`Checking the upload ${path} in a worker thread`);
        return runInWorker<CheckAnswer>(WORKER, request, this.#limits, this.#closing.signal);
      });
    } catch (error) {
      // The platform's reaction to a zip it cannot check is undocumented; 422 is its answer to an invalid binary.
      if (error instanceof WorkerLimitError) throw invalidDataError(`Microservice binary is invalid: checking it ${error.message}; a zip packed by c8y-ms pack is checked in seconds.`);
      throw error;
    }
    if (!answer.ok) throw new ApiError(answer.status, answer.error, answer.message);
    return answer.upload;
  }

  /** Stops the checks still running (their requests fail). */
  close(): void {
    this.#closing.abort(new ApiError(503, "general/serviceUnavailable", "The sandbox is shutting down."));
  }
}
