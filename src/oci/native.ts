import { open } from "node:fs/promises";
import { ValidationError } from "../errors.js";
import type { LayerEntry } from "./layer.js";

/**
 * Compiled code in the application layer must run on the platform: a Node add-on (`.node`)
 * or a Python extension (`.so`) has to be an x86-64 Linux ELF file. Built on a Mac or an
 * ARM laptop, it is a Mach-O or aarch64 file that fails only when the service starts.
 */
export class NativeCodeError extends ValidationError {
  override readonly code = "NATIVE_CODE_FOREIGN";
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const EM_X86_64 = 0x3e;

/** What a compiled file is, in words, or undefined when it is x86-64 Linux code. */
export function foreignKind(head: Buffer): string | undefined {
  if (head.subarray(0, 4).equals(ELF_MAGIC)) {
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    if (head[4] === 2 && machine === EM_X86_64) return undefined;
    const names: Record<number, string> = { 0x03: "x86 (32-bit)", 0x28: "ARM (32-bit)", 0xb7: "ARM64 (aarch64)", 0xf3: "RISC-V" };
    return `a Linux ELF file for ${names[machine] ?? `machine ${machine}`}`;
  }
  const magic = head.length >= 4 ? head.readUInt32BE(0) : 0;
  if ([0xcffaedfe, 0xcefaedfe, 0xfeedfacf, 0xcafebabe].includes(magic)) return "a macOS (Mach-O) file";
  if (head[0] === 0x4d && head[1] === 0x5a) return "a Windows (PE) file";
  return "not a Linux ELF file";
}

export async function checkNativeCode(entries: readonly LayerEntry[], fix: string): Promise<void> {
  const foreign: string[] = [];
  for (const entry of entries) {
    if (entry.type !== "file" || !/\.(node|so)(\.\d+)*$/.test(entry.path)) continue;
    const handle = await open(entry.source!, "r");
    try {
      const head = Buffer.alloc(20);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const kind = foreignKind(head.subarray(0, bytesRead));
      if (kind) foreign.push(`/${entry.path} is ${kind}`);
    } finally {
      await handle.close();
    }
  }
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 10).join("\n  ");
  throw new NativeCodeError(`The image would hold compiled code that does not run on linux/amd64:\n  ${shown}${foreign.length > 10 ? `\n  ... and ${foreign.length - 10} more` : ""}`, { hint: fix });
}
