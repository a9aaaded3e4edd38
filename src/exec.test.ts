import { describe, expect, it } from "vitest";
import { CommandFailedError, CommandNotFoundError, createExec } from "./exec.js";

const exec = () => createExec({ debug: () => {} });

/** A node child that writes `chunks` (byte arrays) to stdout one at a time, a moment apart. */
function writer(chunks: number[][], exitCode = 0): string[] {
  const script = `const c=${JSON.stringify(chunks)};let i=0;const next=()=>{if(i===c.length)return process.exit(${exitCode});process.stdout.write(Buffer.from(c[i++]),()=>setTimeout(next,20))};next();`;
  return ["-e", script];
}

describe("exec", () => {
  it("never cuts a UTF-8 character, however the bytes are chunked, and keeps stdout exact", async () => {
    const euro = [...Buffer.from("€")];
    const lines: string[] = [];
    const result = await exec().run(process.execPath, writer([[0x61, euro[0]!], [euro[1]!], [euro[2]!, 0x0a, 0x62, 0x0d, 0x0a, 0x0a]]), { onLine: (line) => lines.push(line) });
    expect(lines).toEqual(["a€", "b", ""]);
    expect(result.stdout).toBe("a€\nb\r\n\n");
  });

  it("splits a progress bar's carriage-return redraws into lines, and keeps the last ones for errors", async () => {
    const error = await exec()
      .run(process.execPath, writer([[...Buffer.from("10%\r50%\r100%\nfailed\n")]], 3))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).status).toBe(3);
    expect((error as CommandFailedError).tail).toEqual(["10%", "50%", "100%", "failed"]);
  });

  it("names a program that is not installed", async () => {
    await expect(exec().run("c8y-ms-no-such-program", [])).rejects.toBeInstanceOf(CommandNotFoundError);
  });
});
