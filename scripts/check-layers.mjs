#!/usr/bin/env node
// The layering of docs/architecture.md, checked: which part of src/ may import which, which
// packages only one place may use, and no import cycles. It reads every import with the
// TypeScript compiler (already a dev dependency), so `import type`, re-exports and `import()`
// are told apart exactly. `npm test` runs it (test/layers.test.ts); so does CI.
//
//   node scripts/check-layers.mjs [--root <dir>]    (default: this repository's src/)
//
// Exit 0 when every rule holds; 1 with one line per broken rule.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The parts of src/, each a file or a folder (first match wins). `ground` is the floor every
 * layer stands on: pure helpers and the error model, importing nothing but Node.
 */
const PARTS = [
  ["main", "main.ts"],
  ["cli", "cli.ts"],
  ["options", "options.ts"],
  ["context", "context.ts"],
  ["exec", "exec.ts"],
  ["ground", "errors.ts", "secrets.ts", "result.ts", "diagnostics.ts", "format.ts", "background.ts", "fs/"],
  ["ui", "ui/"],
  ["commands", "commands/"],
  ["pipeline", "pipeline/"],
  ["manifest", "manifest/"],
  ["scaffold", "scaffold/"],
  ["archive", "archive/"],
  ["image", "image/"],
  ["oci", "oci/"],
  ["bundle", "bundle/"],
  ["platform", "platform/"],
  ["sandbox", "sandbox/"],
];

const CORES = ["manifest", "scaffold", "archive", "image", "oci", "bundle", "platform", "sandbox", "pipeline"];

/**
 * What each part may import at run time. Type-only imports are erased by the compiler and
 * couple nothing; they may also name `context` (the Context slices cores receive) and `ui`
 * (the Logger and ProgressFactory interfaces Context hands them).
 */
const MAY_IMPORT = {
  ground: [],
  exec: ["ground"],
  ui: ["ground"],
  context: ["ground", "exec", "ui"],
  options: ["ground"],
  manifest: ["ground"],
  scaffold: ["ground", "manifest"],
  archive: ["ground"],
  image: ["ground", "archive", "exec"],
  oci: ["ground", "archive", "image", "manifest", "exec"],
  bundle: ["ground", "archive", "image", "manifest"],
  platform: ["ground"],
  sandbox: ["ground", "archive", "image", "manifest", "bundle", "exec"],
  pipeline: ["ground", "archive", "image", "oci", "manifest", "scaffold", "bundle", "platform", "exec"],
  commands: ["ground", "pipeline", ...CORES, "ui", "exec", "context", "options"],
  cli: ["ground", "commands", "options"],
  main: ["ground", "cli", "context"],
};
const TYPE_ONLY_EXTRA = ["context", "ui", "options", "exec"];

/** Packages and Node modules only some parts may use, and why (design.md, Boundaries). */
const EXCLUSIVE = [
  { modules: ["commander"], only: ["cli"], why: "every command-line declaration lives in cli.ts" },
  { modules: ["@inquirer/prompts"], only: ["ui/prompter.ts"], why: "prompts go through the Prompter, which knows when not to ask" },
  { modules: ["chalk"], only: ["ui"], why: "only ui/ renders" },
  { modules: ["execa"], only: ["exec"], why: "exec.ts is the one wrapper that starts processes" },
  {
    modules: ["undici", "node:http", "node:https", "node:http2", "node:net", "node:tls"],
    only: ["platform", "sandbox", "oci"],
    why: "only the platform client, the sandbox and the registry client (oci/) speak HTTP",
  },
  { modules: ["node:fs", "node:fs/promises"], forbidden: ["platform"], why: "platform/ knows no files: what it sends is handed to it" },
];

/** Parts that may not be imported by some others at all, whatever the matrix says. */
const NEVER = [{ from: ["platform"], to: ["manifest", "bundle", "archive", "image", "fs/"], why: "platform/ knows nothing of files or manifests" }];

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const root = resolve(args[0] === "--root" && args[1] ? args[1] : join(here, "..", "src"));

function partOf(file) {
  const rel = relative(root, file).split(sep).join("/");
  for (const [name, ...patterns] of PARTS) {
    if (patterns.some((p) => (p.endsWith("/") ? rel.startsWith(p) : rel === p))) return name;
  }
  return undefined;
}

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every import of a file: the specifier, and whether it is erased at build (type-only). */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = Boolean(clause?.isTypeOnly) || Boolean(clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, line: lineOf(source, node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.isTypeOnly || Boolean(node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, line: lineOf(source, node) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false, line: lineOf(source, node) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true, line: lineOf(source, node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function lineOf(source, node) {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

/** `node:x`, a package name (`@scope/name`, `name`), or the .ts file a relative import means. */
function target(file, specifier) {
  if (specifier.startsWith(".")) return { file: resolve(dirname(file), specifier.replace(/\.js$/, ".ts")) };
  if (specifier.startsWith("node:")) return { module: specifier };
  const parts = specifier.split("/");
  return { module: specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0] };
}

function matches(file, part, names) {
  const rel = relative(root, file).split(sep).join("/");
  return names.some((name) => name === part || (name.includes(".") && name === rel) || (name.endsWith("/") && rel.startsWith(name)));
}

const files = sourceFiles(root);
const problems = [];
const graph = new Map();
for (const file of files) {
  const from = partOf(file);
  const shown = relative(root, file);
  if (!from) {
    problems.push(`${shown}: belongs to no layer; add it to PARTS in scripts/check-layers.mjs and to docs/architecture.md`);
    continue;
  }
  const edges = [];
  for (const { specifier, typeOnly, line } of importsOf(file)) {
    const where = `${shown}:${line}`;
    const to = target(file, specifier);
    if (to.module) {
      for (const rule of EXCLUSIVE) {
        if (!rule.modules.includes(to.module)) continue;
        if (rule.only && !matches(file, from, rule.only)) problems.push(`${where}: imports ${to.module}, which only ${rule.only.join(", ")} may use (${rule.why})`);
        if (rule.forbidden && matches(file, from, rule.forbidden)) problems.push(`${where}: imports ${to.module} (${rule.why})`);
      }
      continue;
    }
    const toPart = partOf(to.file);
    if (!toPart) continue;
    for (const rule of NEVER) {
      if (rule.from.includes(from) && matches(to.file, toPart, rule.to)) problems.push(`${where}: imports ${specifier} (${rule.why})`);
    }
    if (toPart === from) {
      if (from === "commands") problems.push(`${where}: imports ${specifier}; commands never import each other (what two share lives in a core module)`);
      if (!typeOnly) edges.push(to.file);
      continue;
    }
    const allowed = [...(MAY_IMPORT[from] ?? []), ...(typeOnly ? TYPE_ONLY_EXTRA : [])];
    if (!allowed.includes(toPart)) {
      const why = toPart === "commands" || toPart === "ui" ? "core modules never import commands/ or ui/ renderers" : `${from} may import ${MAY_IMPORT[from]?.join(", ") || "nothing of src/"}`;
      problems.push(`${where}: imports ${specifier} (${toPart}${typeOnly ? ", types" : ""}); ${why}`);
    }
    if (!typeOnly) edges.push(to.file);
  }
  graph.set(file, edges);
}

// Cycles through run-time imports: a module that, through others, imports itself.
const state = new Map();
const stack = [];
const seenCycles = new Set();
function walk(file) {
  state.set(file, "open");
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === "open") {
      const cycle = stack.slice(stack.indexOf(next)).map((f) => relative(root, f));
      const key = [...cycle].sort().join(" ");
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        problems.push(`import cycle: ${[...cycle, relative(root, next)].join(" -> ")}`);
      }
    } else if (!state.has(next) && graph.has(next)) {
      walk(next);
    }
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) walk(file);

if (problems.length > 0) {
  console.error(`${problems.length} layering ${problems.length === 1 ? "rule is" : "rules are"} broken (docs/architecture.md says why each holds):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`Layering holds: ${files.length} modules of ${relative(process.cwd(), root) || "."}, no import cycle.`);
