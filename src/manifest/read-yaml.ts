import { createRequire } from "node:module";
import type { Alias, Document, Node } from "yaml";
import { MAX_ALIAS_NODES, MAX_NESTING } from "./limits.js";
import { pointerOf, type Locations, type ReadResult, type SourceDocument, type Span } from "./source.js";

/**
 * YAML manifests (cumulocity.yaml) read into the same value-plus-locations shape as JSON, so
 * every rule and position works the same for both. `pack` always writes JSON.
 */
export function readYaml(text: string): ReadResult {
  const docs = parseDocuments(text);
  if (!docs) return { ok: false, problem: { offset: 0, message: TOO_DEEP } };
  const [doc, second] = docs;
  if (!doc) return { ok: false, problem: { offset: 0, message: 'The file is empty: a manifest is a YAML mapping such as `apiVersion: "2"`.' } };
  const error = doc.errors[0];
  if (error) return { ok: false, problem: { offset: error.pos[0], message: /call stack/i.test(error.message) ? TOO_DEEP : yamlMessage(error.message) } };
  if (second) {
    return { ok: false, problem: { offset: second.range[0], message: "A manifest is one YAML document: remove the second document (after `---`)." } };
  }
  if (doc.contents === null) return { ok: false, problem: { offset: 0, message: 'The file has no content: a manifest is a YAML mapping such as `apiVersion: "2"`.' } };
  const converter = new YamlConverter(doc);
  try {
    const value = converter.convert(doc.contents, []);
    return { ok: true, document: { value, locations: converter.locations, duplicateKeys: converter.duplicates } };
  } catch (problem) {
    if (problem instanceof YamlProblem) return { ok: false, problem: { offset: problem.offset, message: problem.message } };
    throw problem;
  }
}

/** The documents of the text; undefined when the yaml package ran out of stack (it recurses once per level). */
function parseDocuments(text: string) {
  try {
    // Duplicate keys are reported by us as warnings, the same as for JSON.
    const documents = yaml().parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
    return Array.isArray(documents) ? documents : [];
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

const TOO_DEEP = `Nesting deeper than ${MAX_NESTING} levels: a manifest is never this deep.`;

type YamlModule = typeof import("yaml");
let yamlModule: YamlModule | undefined;

/** Loaded on first use (synchronously, so checking stays a pure function): JSON manifests never pay for it. */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)("yaml") as YamlModule;
  return yamlModule;
}

/** A document the yaml package accepts but a manifest cannot be: it ends reading, like a syntax error. */
class YamlProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The document's tree as plain values and locations. Work is bounded by the text: nesting is
 * capped, and aliases, which repeat a subtree without repeating its text, may add at most
 * MAX_ALIAS_NODES values in all.
 */
class YamlConverter {
  readonly locations: Locations = new Map();
  readonly duplicates: SourceDocument["duplicateKeys"] = [];
  readonly #resolving = new Set<Node>();
  readonly #targets: Map<Node, Node | undefined>;
  #insideAlias = 0;
  #aliasNodes = 0;

  constructor(doc: Document.Parsed) {
    this.#targets = aliasTargets(doc);
  }

  convert(node: unknown, path: (string | number)[], key?: Span): unknown {
    if (this.#insideAlias > 0 && !yaml().isAlias(node)) this.#spend(node);
    const value = this.#value(node, path);
    this.locations.set(pointerOf(path), { value: spanOf(node), key });
    return value;
  }

  #value(node: unknown, path: (string | number)[]): unknown {
    const { isAlias, isMap, isScalar, isSeq } = yaml();
    if (isAlias(node)) {
      const target = this.#resolve(node);
      this.#spend(node);
      this.#resolving.add(target);
      this.#insideAlias++;
      try {
        return this.#value(target, path);
      } finally {
        this.#insideAlias--;
        this.#resolving.delete(target);
      }
    }
    if ((isMap(node) || isSeq(node)) && path.length >= MAX_NESTING) throw new YamlProblem(spanOf(node).start, TOO_DEEP);
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      const seen = new Map<string, Span>();
      for (const pair of node.items) {
        const name = this.#keyText(pair.key);
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

  /** One more value that an alias adds: the copy of its target, then each value inside it. */
  #spend(node: unknown): void {
    if (++this.#aliasNodes > MAX_ALIAS_NODES) {
      throw new YamlProblem(spanOf(node).start, `YAML aliases here expand to more than ${MAX_ALIAS_NODES} values: a manifest never needs that many; write the values out instead of repeating an alias.`);
    }
  }

  #resolve(alias: Alias): Node {
    const target = this.#targets.get(alias);
    if (!target) throw new YamlProblem(spanOf(alias).start, `The alias *${alias.source} has no anchor &${alias.source} before it: define the anchor first, or write the value.`);
    if (this.#resolving.has(target)) throw new YamlProblem(spanOf(alias).start, "This alias refers to the node that contains it: a manifest cannot be recursive.");
    return target;
  }

  /** JSON keys are text: a scalar's value (also through an alias), never a stringified collection. */
  #keyText(key: unknown): string {
    const { isAlias, isScalar } = yaml();
    const scalar = isAlias(key) ? this.#resolve(key) : key;
    if (isScalar(scalar)) return String(scalar.value);
    if (scalar === null || scalar === undefined) return "";
    throw new YamlProblem(spanOf(key).start, "YAML syntax error: a key must be text, not a mapping or a list: JSON, which the platform reads, has only text keys.");
  }
}

/**
 * Each alias's node: the last one before it with that anchor, as YAML defines it and the
 * yaml package's Alias.resolve finds it. That method walks the whole document per alias,
 * which many aliases make quadratic; one walk in document order finds them all.
 */
function aliasTargets(doc: Document.Parsed): Map<Node, Node | undefined> {
  const { isAlias, isNode, visit } = yaml();
  const anchors = new Map<string, Node>();
  const targets = new Map<Node, Node | undefined>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
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
