import { afterEach } from "vitest";
import { recordFigure } from "./figures.js";

/** Files whose tests inject platform and network faults (status codes, resets, delays, proxies, TLS). */
const FAULT_FILES = /[\\/](deploy-faults|deploy-network|sandbox-faults)\.test\.ts$/;

afterEach(({ task }) => {
  if (task.result?.state === "fail" || (task.result?.errors?.length ?? 0) > 0) return;
  recordFigure("scenarios", 1);
  if (FAULT_FILES.test(task.file.filepath)) recordFigure("faults-survived", 1);
});
