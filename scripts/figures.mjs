// Prints the reliability figures of the last test run (written by test/helpers/figures-global.ts).
import { readFileSync } from "node:fs";

const file = new URL("../.tmp/figures.json", import.meta.url);
let figures;
try {
  figures = JSON.parse(readFileSync(file, "utf8"));
} catch {
  console.error("No figures yet: run the tests first (npm test, or npm run test:all for every figure).");
  process.exit(1);
}
console.log(`Measured ${figures.measuredAt}:`);
for (const [figure, count] of Object.entries(figures.totals)) console.log(`${String(count).padStart(9)}  ${figure}`);
process.exit(figures.totals["secrets-leaked"] === 0 ? 0 : 1);
