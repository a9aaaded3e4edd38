import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { fileSource } from "../archive/byte-source.js";
import { readTarEntries } from "../archive/tar.js";
import { open } from "node:fs/promises";
import { applyCopies } from "./copy.js";
import { DockerfileError } from "./dockerfile.js";
import { LayerTree, writeLayer } from "./layer.js";
import { checkNativeCode, foreignKind, NativeCodeError } from "./native.js";
import { dockerignore } from "./patterns.js";
import type { CopyStep } from "./stage.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "c8y-ms-layer-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const step = (sources: string[], dest: string, extra: Partial<CopyStep> = {}): CopyStep => ({ line: 1, sources, dest, owner: { uid: 0, gid: 0 }, mode: undefined, ...extra });
const signal = new AbortController().signal;

async function project(): Promise<string> {
  const context = join(dir, "ctx");
  await mkdir(join(context, "app", "sub"), { recursive: true });
  await mkdir(join(context, "app", "__pycache__"), { recursive: true });
  await writeFile(join(context, "app", "main.py"), "print('hi')\n");
  await writeFile(join(context, "app", "sub", "run.sh"), "#!/bin/sh\n");
  await chmod(join(context, "app", "sub", "run.sh"), 0o755);
  await writeFile(join(context, "app", "__pycache__", "main.pyc"), "x");
  await symlink("main.py", join(context, "app", "link.py"));
  await writeFile(join(context, "package.json"), "{}");
  await writeFile(join(context, "package-lock.json"), "{}");
  return context;
}

async function listing(path: string): Promise<string[]> {
  const handle = await open(path, "r");
  const names: string[] = [];
  try {
    const { size } = await handle.stat();
    for await (const entry of readTarEntries(fileSource(handle, 0, size))) names.push(`${entry.type} ${entry.name}${entry.linkName ? ` -> ${entry.linkName}` : ""}`);
  } finally {
    await handle.close();
  }
  return names;
}

test("COPY as Docker does it, written sorted with fixed times: the same sources give the same bytes", async () => {
  const context = await project();
  const build = async (name: string) => {
    const tree = new LayerTree();
    tree.ensureDirectory("/app", { uid: 0, gid: 0 });
    await applyCopies(tree, [step(["package*.json"], "/app/"), step(["app"], "/app/app")], { contextDir: context, ignore: dockerignore("__pycache__\n**/*.pyc\n"), dockerfile: "Dockerfile" });
    return writeLayer(tree, join(dir, name), signal);
  };
  const a = await build("a.tar");
  const b = await build("b.tar");
  expect(a.diffId).toBe(b.diffId);
  expect(await readFile(a.path)).toEqual(await readFile(b.path));
  expect(await listing(a.path)).toEqual([
    "directory app/",
    "directory app/app/",
    // .dockerignore lines are anchored at the context's root, as in Docker: only **/*.pyc reaches in.
    "directory app/app/__pycache__/",
    "symlink app/app/link.py -> main.py",
    "file app/app/main.py",
    "directory app/app/sub/",
    "file app/app/sub/run.sh",
    "file app/package-lock.json",
    "file app/package.json",
  ]);
  // Mode bits kept: the script stays executable.
  const bytes = await readFile(a.path);
  const at = bytes.indexOf("app/app/sub/run.sh");
  expect(bytes.toString("latin1", at + 100, at + 107)).toBe("0000755");
});

test("--chown and --chmod go into the headers", async () => {
  const context = await project();
  const tree = new LayerTree();
  await applyCopies(tree, [step(["package.json"], "/srv/conf.json", { owner: { uid: 1000, gid: 1001 }, mode: 0o600 })], { contextDir: context, ignore: dockerignore(""), dockerfile: "Dockerfile" });
  expect(tree.entries().at(-1)).toMatchObject({ path: "srv/conf.json", uid: 1000, gid: 1001, mode: 0o600 });
});

test("missing, ignored and several-into-a-file sources stop with the line", async () => {
  const context = await project();
  const copy = (s: CopyStep, ignore = "") => applyCopies(new LayerTree(), [s], { contextDir: context, ignore: dockerignore(ignore), dockerfile: "Dockerfile" });
  await expect(copy(step(["nope.txt"], "/x"))).rejects.toThrow(/Dockerfile:1: COPY nope.txt: not found in the build context/);
  await expect(copy(step(["package.json"], "/x"), "package.json")).rejects.toThrow(/left out of the build context by .dockerignore/);
  await expect(copy(step(["package.json", "package-lock.json"], "/x"))).rejects.toThrow(DockerfileError);
});

test("compiled code that is not x86-64 Linux is refused by name", async () => {
  const elf = (machine: number) => {
    const head = Buffer.alloc(20);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]).copy(head);
    head.writeUInt16LE(machine, 18);
    return head;
  };
  expect(foreignKind(elf(0x3e))).toBeUndefined();
  expect(foreignKind(elf(0xb7))).toMatch(/ARM64/);
  expect(foreignKind(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0, 0, 0, 0]))).toMatch(/macOS/);

  await writeFile(join(dir, "good.node"), elf(0x3e));
  await writeFile(join(dir, "bad.node"), Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]));
  const entry = (path: string, source: string) => ({ path, type: "file" as const, mode: 0o644, uid: 0, gid: 0, source, size: 20 });
  await expect(checkNativeCode([entry("app/node_modules/a/good.node", join(dir, "good.node"))], "fix")).resolves.toBeUndefined();
  const error = await checkNativeCode([entry("app/node_modules/b/build/Release/b.node", join(dir, "bad.node"))], "the fix").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NativeCodeError);
  expect((error as NativeCodeError).message).toContain("/app/node_modules/b/build/Release/b.node is a macOS (Mach-O) file");
  expect((error as NativeCodeError).hint).toBe("the fix");
});
