// `npm run bench`: each entry compares c8y-ms with a reference tool in the same run and prints
// the ratio of medians against its goal. Select entries by name: `npm run bench -- startup pack`.
// Timing belongs here, never in the test suite.
import * as data from "./data.mjs";
import * as engineNone from "./engine-none.mjs";
import * as pack from "./pack.mjs";
import * as startup from "./startup.mjs";
import * as upload from "./upload.mjs";

const ENTRIES = [startup, upload, pack, engineNone, data];

const wanted = process.argv.slice(2);
const selected = wanted.length ? ENTRIES.filter((e) => wanted.includes(e.name)) : ENTRIES;
if (selected.length === 0) {
  console.error(`No bench entry named ${wanted.join(", ")}. Known: ${ENTRIES.map((e) => e.name).join(", ")}`);
  process.exit(2);
}

const rows = [];
let failed = false;
for (const entry of selected) {
  console.error(`bench: ${entry.name}...`);
  for (const row of await entry.run()) {
    rows.push(row);
    console.error(`  ${row.entry}: ${row.ours} vs ${row.theirs} (${row.reference}) = ${row.ratio.toFixed(3)}x${row.extra ? `; ${row.extra}` : ""}`);
  }
}

const header = ["entry", "c8y-ms", "reference", "tool", "ratio", "goal", "notes"];
const table = [header, ...rows.map((r) => {
  const met = r.ratio <= r.goal && (r.memoryOk ?? true);
  if (!met) failed = true;
  return [r.entry, r.ours, r.theirs, r.reference, `${r.ratio.toFixed(3)}x`, `<= ${r.goal}x${met ? "" : "  MISSED"}`, r.extra ?? ""];
})];
const widths = header.map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
console.log(table.map((row) => row.map((c, i) => String(c).padEnd(widths[i])).join("  ")).join("\n"));
process.exitCode = failed ? 1 : 0;
