import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";

/**
 * What the suite ran, counted as it runs: generated inputs tried, hostile archives refused,
 * interrupts handled, CLI runs and files checked for secrets, secrets leaked. Each test
 * process appends its counts to its own file; `npm run figures` (scripts/figures.mjs) adds
 * them up after a run, and README.md's "Reliability" section shows the result.
 */
export type Figure = "generated-inputs" | "hostile-archives-refused" | "interrupts-handled" | "faults-survived" | "cli-runs-checked" | "files-checked" | "secrets-leaked";

export const FIGURES_DIR = process.env.C8Y_MS_FIGURES_DIR ?? join(REPO_ROOT, ".tmp", "figures");

export function recordFigure(figure: Figure, count: number): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  appendFileSync(join(FIGURES_DIR, `${process.pid}.jsonl`), `${JSON.stringify({ figure, count })}\n`);
}
