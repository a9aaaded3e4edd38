import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";

/**
 * What the suite ran, counted as it runs: tests passed, generated inputs tried, hostile
 * archives refused, interrupts handled, faults survived, CLI runs and files checked for
 * secrets, secrets leaked. Each test process appends its counts to its own file; when the run
 * ends, figures-global.ts adds them up into FIGURES_FILE, `npm run figures` prints it, and
 * README.md's "Reliability" section shows a full run's.
 */
export const FIGURES = {
  scenarios: "tests passed",
  "generated-inputs": "generated inputs tried (property tests and their spawned samples)",
  "hostile-archives-refused": "hostile archives refused",
  "interrupts-handled": "interrupts handled (SIGINT and SIGTERM)",
  "faults-survived": "platform and network faults survived (deploy-faults, deploy-network, sandbox-faults)",
  "cli-runs-checked": "CLI runs checked for secrets",
  "files-checked": "files written by them, checked for secrets",
  "secrets-leaked": "secrets leaked",
} as const;

export type Figure = keyof typeof FIGURES;

const FIGURES_DIR = join(REPO_ROOT, ".tmp", "figures");
export const FIGURES_FILE = join(REPO_ROOT, ".tmp", "figures.json");

export function recordFigure(figure: Figure, count: number): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  appendFileSync(join(FIGURES_DIR, `${process.pid}.jsonl`), `${JSON.stringify({ figure, count })}\n`);
}

export function resetFigures(): void {
  rmSync(FIGURES_DIR, { recursive: true, force: true });
}

/** The counts of this run, added up, written to FIGURES_FILE. */
export function totalFigures(): Record<Figure, number> {
  const totals = Object.fromEntries(Object.keys(FIGURES).map((f) => [f, 0])) as Record<Figure, number>;
  let files: string[] = [];
  try {
    files = readdirSync(FIGURES_DIR);
  } catch {
    // Nothing recorded.
  }
  for (const file of files) {
    for (const line of readFileSync(join(FIGURES_DIR, file), "utf8").split("\n")) {
      if (!line) continue;
      const { figure, count } = JSON.parse(line) as { figure: Figure; count: number };
      if (figure in totals) totals[figure] += count;
    }
  }
  writeFileSync(FIGURES_FILE, `${JSON.stringify({ measuredAt: new Date().toISOString(), totals }, null, 2)}\n`);
  return totals;
}
