import { FIGURES, FIGURES_FILE, resetFigures, totalFigures } from "./figures.js";

/** Once per vitest run: counts start from zero, and the totals are written and shown at the end. */
export default function setup(): () => void {
  resetFigures();
  return () => {
    const totals = totalFigures();
    const lines = Object.entries(FIGURES).map(([figure, label]) => `  ${String(totals[figure as keyof typeof FIGURES]).padStart(8)}  ${label}`);
    process.stdout.write(`\nReliability figures of this run (${FIGURES_FILE}):\n${lines.join("\n")}\n`);
  };
}
