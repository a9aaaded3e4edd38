import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic.js";

describe("writeFileAtomic", () => {
  it("replaces the file whole, with the mode it was asked for, and leaves no temporary file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "c8y-ms-atomic-"));
    const target = join(dir, "state.json");
    await writeFile(target, "old", { mode: 0o644 });
    await writeFileAtomic(target, "new", { mode: 0o600 });
    expect(await readFile(target, "utf8")).toBe("new");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["state.json"]);
  });

  it("makes missing directories, and keeps the old file when the write fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "c8y-ms-atomic-"));
    const target = join(dir, "a", "b", "pack.json");
    await writeFileAtomic(target, "{}");
    expect(await readFile(target, "utf8")).toBe("{}");
    await expect(writeFileAtomic(target, 42 as unknown as string)).rejects.toThrow();
    expect(await readFile(target, "utf8")).toBe("{}");
    expect(await readdir(join(dir, "a", "b"))).toEqual(["pack.json"]);
  });
});
