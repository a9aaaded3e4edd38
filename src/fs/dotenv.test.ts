import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.js";
import { CliError } from "../errors.js";
import { readDotenv } from "./dotenv.js";

describe("readDotenv", () => {
  it("reads assignments, quotes, export and comments as node --env-file does", async () => {
    const text = [
      "# platform",
      "export C8Y_HOST=https://example.com # the tenant",
      'C8Y_PASSWORD="with \'quotes\' and #hash"',
      "C8Y_USER='single # kept'",
      "EMPTY=",
      "C8Y_TENANT = t5 ",
      'MULTI="two\\nlines"',
    ].join("\n");
    const dir = await tempDir({ ".env": text });
    expect(await readDotenv(dir)).toEqual({
      C8Y_HOST: "https://example.com",
      C8Y_PASSWORD: "with 'quotes' and #hash",
      C8Y_USER: "single # kept",
      EMPTY: "",
      C8Y_TENANT: "t5",
      MULTI: "two\nlines",
    });
  });

  it("is empty without a .env, and names an unreadable one", async () => {
    expect(await readDotenv(await tempDir())).toEqual({});
    const dir = await tempDir({ ".env/inside": "x" });
    expect(await readDotenv(dir)).toEqual({});
    const error = await readDotenv(join(dir, ".env", "inside")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/^Could not read .*inside\/\.env \(ENOTDIR\)\.$/);
  });
});
