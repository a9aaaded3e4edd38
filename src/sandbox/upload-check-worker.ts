import { parentPort, workerData } from "node:worker_threads";
import { ApiError } from "./http.js";
import type { CheckAnswer, CheckRequest } from "./upload-check.js";
import { preflightUpload } from "./upload-preflight.js";
import { checkUpload } from "./zip-check.js";

/**
 * The upload check in its own thread (started by upload-check.ts): one request in, one
 * answer out. A refusal is an answer; anything else thrown is a bug and fails the worker.
 */
const { path, sizeLimit, fileName } = workerData as CheckRequest;
let answer: CheckAnswer;
try {
  await preflightUpload(path);
  answer = { ok: true, upload: await checkUpload(path, sizeLimit, fileName) };
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  answer = { ok: false, status: error.status, error: error.error, message: error.message };
}
parentPort?.postMessage(answer);
