import { describe, expect, it } from "vitest";
import { ciphertext, seal, unseal, visibleValue } from "./tenant-options.js";

describe("credentials. options", () => {
  it("are sealed so that only the data directory's secret opens them, differently each time", () => {
    const sealed = seal("s3cr3t", "key");
    expect(sealed).not.toContain("s3cr3t");
    expect(seal("s3cr3t", "key")).not.toBe(sealed);
    expect(unseal(sealed, "key")).toBe("s3cr3t");
    expect(() => unseal(sealed, "other key")).toThrow();
  });

  it("show their value to the category's own service only; others see the ciphertext as hex; other options are plain", () => {
    const row = { category: "svc", key: "credentials.token", value: seal("s3cr3t", "key") };
    expect(visibleValue(row, "key", "svc")).toBe("s3cr3t");
    expect(visibleValue(row, "key", undefined)).toBe(ciphertext(row.value));
    expect(visibleValue(row, "key", "other")).toMatch(/^[0-9a-f]+$/);
    expect(visibleValue({ category: "svc", key: "mode", value: "fast" }, "key", undefined)).toBe("fast");
  });
});
