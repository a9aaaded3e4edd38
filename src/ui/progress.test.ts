import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Redactor } from "../secrets.js";
import { createProgressFactory, fitLine } from "./progress.js";

describe("fitLine", () => {
  it("keeps the figures whole and shortens the label on a narrow terminal", () => {
    const figures = "43.3 MB / 120 MB  36%  143 MB/s  ETA 346ms";
    expect(fitLine("Zipping a.zip", figures, 79)).toBe(`Zipping a.zip  ${figures}`);
    const narrow = fitLine("Uploading demo-service-1.0.0-SNAPSHOT.zip", figures, 60);
    expect(narrow.length).toBeLessThanOrEqual(60);
    expect(narrow.endsWith(figures)).toBe(true);
    expect(narrow).toBe(`Uploading demo-…  ${figures}`);
    expect(fitLine("Uploading", figures, 20)).toBe(figures.slice(0, 20));
  });
});

describe("progress on a terminal", () => {
  it("redraws one line with bytes, rate and ETA, then ends it with a summary", () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 60 });
    let clock = 0;
    const progress = createProgressFactory({ stream, redactor: new Redactor(), quiet: false, now: () => clock });
    const bar = progress("Uploading demo-service-1.0.0-SNAPSHOT.zip", 2_000_000);
    clock = 1000;
    bar.advance(1_000_000);
    clock = 2000;
    bar.done();
    const text = String(stream.read());
    const [drawn, summary] = text.split("\x1b[K");
    expect(drawn).toBe("\rUploading demo-s…  1.0 MB / 2.0 MB  50%  1.0 MB/s  ETA 1.0s");
    expect(drawn!.length - 1).toBeLessThanOrEqual(59);
    expect(summary).toBe("\r✔ Uploading demo-service-1.0.0-SNAPSHOT.zip: 1.0 MB in 2.0s (500 kB/s)");
  });
});
