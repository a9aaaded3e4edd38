import { expect, test } from "vitest";
import { dockerignore, segmentPattern } from "./patterns.js";

test(".dockerignore: directories, ** and exceptions, the last matching line wins", () => {
  const ignore = dockerignore("# comment\nnode_modules\n**/*.pyc\n/dist/\n*.md\n!KEEP.md\n");
  expect(ignore.ignores("node_modules")).toBe(true);
  expect(ignore.ignores("node_modules/x/index.js")).toBe(true);
  expect(ignore.ignores("app/__pycache__/a.pyc")).toBe(true);
  expect(ignore.ignores("a.pyc")).toBe(true);
  expect(ignore.ignores("dist/main.js")).toBe(true);
  expect(ignore.ignores("README.md")).toBe(true);
  expect(ignore.ignores("KEEP.md")).toBe(false);
  expect(ignore.ignores("docs/README.md")).toBe(false);
  expect(ignore.ignores("src/main.ts")).toBe(false);
  expect(ignore.hasExceptions).toBe(true);
  expect(dockerignore("").ignores("x")).toBe(false);
});

test("COPY wildcards stay within one path segment", () => {
  expect(segmentPattern("package*.json").test("package-lock.json")).toBe(true);
  expect(segmentPattern("*.json").test("a/b.json")).toBe(false);
  expect(segmentPattern("file?.[ab]").test("file1.a")).toBe(true);
  expect(segmentPattern("file?.[ab]").test("file1.c")).toBe(false);
});
