import { createRequire } from "node:module";
import type { Document, Node } from "yaml";
import { pointerOf, type Locations, type ReadResult, type SourceDocument, type Span } from "./source.js";

/**
 * YAML manifests (cumulocity.yaml) read into the same value-plus-locations shape as JSON, so
 * every rule and position works the same for both. `pack` always writes JSON.
 */
export function readYaml(text: string): ReadResult {
  const { parseAllDocuments } = yaml();
  // Duplicate keys are reported by us as warnings, the same as for JSON.
  const documents = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
  const docs = Array.isArray(documents) ? documents : [];
  const [doc, second] = docs;
  if (!doc) return { ok: false, problem: { offset: 0, message: 'The file is empty: a manifest is a YAML mapping such as `apiVersion: "2"`.' } };
  const error = doc.errors[0];
  if (error) return { ok: false, problem: { offset: error.pos[0], message: yamlMessage(error.message) } };
  if (second) {
    return { ok: false, problem: { offset: second.range[0], message: "A manifest is one YAML document: remove the second document (after `---`)." } };
  }
  if (doc.contents === null) return { ok: false, problem: { offset: 0, message: 'The file has no content: a manifest is a YAML mapping such as `apiVersion: "2"`.' } };
  const converter = new YamlConverter(doc);
  try {
    const value = converter.convert(doc.contents, []);
    return { ok: true, document: { value, locations: converter.locations, duplicateKeys: converter.duplicates } };
  } catch (problem) {
    if (problem instanceof AliasCycle) return { ok: false, problem: { offset: problem.offset, message: problem.message } };
    throw problem;
  }
}

type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;

/** Loaded on first use (synchronously, so checking stays a pure function): JSON manifests never pay for it. */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)("yaml") as YamlModule;
  return yamlModule;
}

class AliasCycle extends Error {
  constructor(readonly offset: number) {
    super("This alias refers to the node that contains it: a manifest cannot be recursive.");
  }
}

class YamlConverter {
  readonly locations: Locations = new Map();
  readonly duplicates: SourceDocument["duplicateKeys"] = [];
  readonly #resolving = new Set<Node>();

  constructor(readonly doc: Document.Parsed) {}

  convert(node: unknown, path: (string | number)[], key?: Span): unknown {
    const value = this.#value(node, path);
    this.locations.set(pointerOf(path), { value: spanOf(node), key });
    return value;
  }

  #value(node: unknown, path: (string | number)[]): unknown {
    const { isAlias, isMap, isScalar, isSeq } = yaml();
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target || this.#resolving.has(target)) throw new AliasCycle(spanOf(node).start);
      this.#resolving.add(target);
      try {
        return this.#value(target, path);
      } finally {
        this.#resolving.delete(target);
      }
    }
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      const seen = new Map<string, Span>();
      for (const pair of node.items) {
        const name = keyText(pair.key);
        const keySpan = spanOf(pair.key);
        const first = seen.get(name);
        if (first) this.duplicates.push({ pointer: pointerOf([...path, name]), key: keySpan, first });
        seen.set(name, keySpan);
        const value = pair.value === null ? null : this.convert(pair.value, [...path, name], keySpan);
        if (pair.value === null) this.locations.set(pointerOf([...path, name]), { value: { start: keySpan.end, end: keySpan.end }, key: keySpan });
        Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true });
      }
      return result;
    }
    if (isSeq(node)) return node.items.map((item, index) => this.convert(item, [...path, index]));
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === "string" || typeof v === "boolean") return v;
      if (typeof v === "number") return v;
      // Binary, big integers and other tagged scalars have no JSON form: keep their text.
      return node.source ?? String(v);
    }
    return null;
  }
}

function keyText(key: unknown): string {
  if (yaml().isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return "";
  return String(key);
}

function spanOf(node: unknown): Span {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  return range ? { start: range[0], end: range[1] } : { start: 0, end: 0 };
}

/** The yaml package's message without its own "at line x, column y" (we add positions ourselves). */
function yamlMessage(message: string): string {
  const first = (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
  return `YAML syntax error: ${first.charAt(0).toLowerCase()}${first.slice(1)}${first.endsWith(".") ? "" : "."}`;
}
