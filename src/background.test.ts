import { describe, expect, it } from "vitest";
import { inBackground } from "./background.js";

describe("inBackground", () => {
  it("holds a failure until someone asks: never unhandled, rethrown to every caller", async () => {
    const failing = inBackground(Promise.reject(new Error("digest mismatch")));
    // Nobody waits for a while: an unhandled rejection would fail this test run.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await failing.settled).toMatchObject({ ok: false, error: new Error("digest mismatch") });
    await expect(failing.result()).rejects.toThrow("digest mismatch");
    await expect(failing.result()).rejects.toThrow("digest mismatch");
  });

  it("gives the value of work that succeeded", async () => {
    const done = inBackground(Promise.resolve(42));
    expect(await done.result()).toBe(42);
    expect(await done.settled).toEqual({ ok: true, value: 42 });
  });
});
