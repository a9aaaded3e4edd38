import { SqlParams } from "./sql.js";

/**
 * The inventory query language (c8y-docs "Query language"; @c8y/client's QueriesUtil builds
 * it): `$filter=(<expression>) $orderby=<property> asc|desc, ...`, where an expression
 * combines `<property> eq|ne|gt|ge|lt|le <value>`, `has(<fragment>)`, `bygroupid(<id>)`,
 * `not(...)`, `and`, `or` and parentheses. Values are 'quoted strings' (a quote doubled
 * inside), numbers, true or false; `*` in an `eq` string is a wildcard. A query without
 * `$filter=` is taken as the expression itself, as the platform does.
 */

export type Value = string | number | boolean;
export type Comparison = "eq" | "ne" | "gt" | "ge" | "lt" | "le";

export type FilterNode =
  | { kind: "and" | "or"; operands: FilterNode[] }
  | { kind: "not"; operand: FilterNode }
  | { kind: "compare"; property: string; op: Comparison; value: Value }
  | { kind: "has"; fragment: string }
  | { kind: "bygroupid"; group: string };

export interface OrderItem {
  property: string;
  descending: boolean;
}

export interface InventoryQuery {
  filter: FilterNode | undefined;
  orderBy: OrderItem[];
}

/** The query cannot be read; the message names where and why. */
export class QuerySyntaxError extends Error {}

export function parseInventoryQuery(text: string): InventoryQuery {
  const trimmed = text.trim();
  const filterAt = trimmed.indexOf("$filter=");
  const orderAt = trimmed.indexOf("$orderby=");
  if (filterAt < 0 && orderAt < 0) return { filter: trimmed === "" ? undefined : parseFilter(trimmed), orderBy: [] };
  const part = (start: number, prefix: string, other: number) => (start < 0 ? "" : trimmed.slice(start + prefix.length, other > start ? other : undefined).trim());
  const filterText = part(filterAt, "$filter=", orderAt);
  const orderText = part(orderAt, "$orderby=", filterAt);
  return { filter: filterText === "" ? undefined : parseFilter(filterText), orderBy: parseOrderBy(orderText) };
}

type Token = { kind: "word" | "string" | "number" | "(" | ")" | ","; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? "";
    if (/\s/.test(char)) {
      i++;
    } else if (char === "(" || char === ")" || char === ",") {
      tokens.push({ kind: char, text: char, at: i });
      i++;
    } else if (char === "'") {
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new QuerySyntaxError(`The string starting at position ${i + 1} is not closed with '.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ kind: "string", text: value, at: i });
      i = j + 1;
    } else {
      const match = /^[^\s(),']+/.exec(text.slice(i));
      const word = match?.[0] ?? char;
      tokens.push({ kind: NUMBER.test(word) ? "number" : "word", text: word, at: i });
      i += word.length;
    }
  }
  return tokens;
}

/** A number may carry a type suffix: @c8y/client's QueriesUtil writes `level gt 4f`. */
const NUMBER = /^-?\d+(\.\d+)?[fdl]?$/i;
const COMPARISONS = new Set<string>(["eq", "ne", "gt", "ge", "lt", "le"]);
const PROPERTY = /^[A-Za-z_$][\w$.]*$/;

function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (!token) throw new QuerySyntaxError("The query ends where more was expected.");
    return token;
  };
  const expect = (kind: Token["kind"]) => {
    const token = next();
    if (token.kind !== kind) throw new QuerySyntaxError(`Expected '${kind}' at position ${token.at + 1}, found '${token.text}'.`);
    return token;
  };
  const keyword = (word: string) => {
    const token = peek();
    if (token?.kind === "word" && token.text.toLowerCase() === word) {
      position++;
      return true;
    }
    return false;
  };

  const orExpression = (): FilterNode => {
    const operands = [andExpression()];
    while (keyword("or")) operands.push(andExpression());
    return operands.length === 1 ? (operands[0] as FilterNode) : { kind: "or", operands };
  };
  const andExpression = (): FilterNode => {
    const operands = [unary()];
    while (keyword("and")) operands.push(unary());
    return operands.length === 1 ? (operands[0] as FilterNode) : { kind: "and", operands };
  };
  const unary = (): FilterNode => {
    const token = next();
    if (token.kind === "(") {
      const inner = orExpression();
      expect(")");
      return inner;
    }
    if (token.kind !== "word") throw new QuerySyntaxError(`Unexpected '${token.text}' at position ${token.at + 1}.`);
    const name = token.text.toLowerCase();
    if (peek()?.kind === "(" && (name === "not" || name === "has" || name === "bygroupid")) {
      position++;
      if (name === "not") {
        const operand = orExpression();
        expect(")");
        return { kind: "not", operand };
      }
      const argument = next();
      if (argument.kind !== "word" && argument.kind !== "number" && argument.kind !== "string") {
        throw new QuerySyntaxError(`${name}() needs one argument, at position ${argument.at + 1}.`);
      }
      expect(")");
      return name === "has" ? { kind: "has", fragment: argument.text } : { kind: "bygroupid", group: argument.text };
    }
    if (peek()?.kind === "(") throw new QuerySyntaxError(`The function ${token.text}() is not supported by the sandbox; it knows has(), bygroupid() and not().`);
    if (!PROPERTY.test(token.text)) throw new QuerySyntaxError(`'${token.text}' at position ${token.at + 1} is not a property name.`);
    const op = next();
    if (op.kind !== "word" || !COMPARISONS.has(op.text.toLowerCase())) {
      throw new QuerySyntaxError(`Expected eq, ne, gt, ge, lt or le after ${token.text}, found '${op.text}'.`);
    }
    return { kind: "compare", property: token.text, op: op.text.toLowerCase() as Comparison, value: literal(next()) };
  };

  const filter = orExpression();
  const rest = peek();
  if (rest) throw new QuerySyntaxError(`Unexpected '${rest.text}' at position ${rest.at + 1}.`);
  return filter;
}

function literal(token: Token): Value {
  if (token.kind === "string") return token.text;
  if (token.kind === "number") return Number(token.text.replace(/[fdl]$/i, ""));
  if (token.kind === "word" && (token.text === "true" || token.text === "false")) return token.text === "true";
  throw new QuerySyntaxError(`Expected a value ('text', a number, true or false) at position ${token.at + 1}, found '${token.text}'.`);
}

function parseOrderBy(text: string): OrderItem[] {
  if (text === "") return [];
  return text.split(",").map((item) => {
    const [property = "", direction = "asc", ...rest] = item.trim().split(/\s+/);
    if (!PROPERTY.test(property) || rest.length > 0 || !/^(asc|desc)$/i.test(direction)) {
      throw new QuerySyntaxError(`'${item.trim()}' in $orderby is not '<property> asc' or '<property> desc'.`);
    }
    return { property, descending: direction.toLowerCase() === "desc" };
  });
}

/** Properties stored as columns of managed_objects; every other property is a path into `body`. */
const COLUMNS: Record<string, { sql: string; kind: "id" | "text" | "time" }> = {
  id: { sql: "m.id", kind: "id" },
  name: { sql: "m.name", kind: "text" },
  type: { sql: "m.type", kind: "text" },
  owner: { sql: "m.owner", kind: "text" },
  creationTime: { sql: "m.creation_time", kind: "time" },
  lastUpdated: { sql: "m.last_updated", kind: "time" },
};

/** A JSON path literal for `#>`: `{c8y_Hardware,serialNumber}`. */
function jsonPath(property: string, params: SqlParams): string {
  return `${params.value(property.split("."))}::text[]`;
}

/** `*` becomes SQL's `%`; the characters LIKE treats specially are escaped. */
export function wildcardPattern(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&").replace(/\*/g, "%");
}

/**
 * The SQL condition of `node` against the managed object alias `m`. String comparisons are
 * case-sensitive; an `eq` on a list property matches when the list holds the value (as the
 * platform's document store does, e.g. `c8y_SupportedOperations eq 'c8y_Restart'`).
 */
export function compileFilter(node: FilterNode, params: SqlParams, tenantParam: string): string {
  switch (node.kind) {
    case "and":
    case "or":
      return node.operands.map((operand) => `(${compileFilter(operand, params, tenantParam)})`).join(` ${node.kind} `);
    case "not":
      return `not coalesce((${compileFilter(node.operand, params, tenantParam)}), false)`;
    case "has":
      return node.fragment.includes(".")
        ? `m.body #> ${jsonPath(node.fragment, params)} is not null`
        : `m.fragments @> array[${params.value(node.fragment)}]::text[]`;
    case "bygroupid":
      return `m.id in (select r.child from mo_references r where r.tenant = ${tenantParam} and r.kind = 'childAssets' and r.parent = ${params.value(idNumber(node.group))})`;
    case "compare":
      return compileComparison(node.property, node.op, node.value, params);
  }
}

function idNumber(value: string | number | boolean): string {
  const text = String(value);
  if (!/^\d+$/.test(text)) throw new QuerySyntaxError(`'${text}' is not a managed object id.`);
  return text;
}

const SQL_OPERATORS: Record<Exclude<Comparison, "eq" | "ne">, string> = { gt: ">", ge: ">=", lt: "<", le: "<=" };

function compileComparison(property: string, op: Comparison, value: Value, params: SqlParams): string {
  if (op === "ne") return `not coalesce((${compileComparison(property, "eq", value, params)}), false)`;
  const column = COLUMNS[property];
  if (column) {
    if (column.kind === "id") {
      const id = params.value(idNumber(value));
      return op === "eq" ? `m.id = ${id}` : `m.id ${SQL_OPERATORS[op]} ${id}`;
    }
    if (column.kind === "time") {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new QuerySyntaxError(`${property} is compared with a date in quotes, e.g. '2024-01-01T00:00:00Z'.`);
      return `${column.sql} ${op === "eq" ? "=" : SQL_OPERATORS[op]} ${params.value(value)}::timestamptz`;
    }
    if (op === "eq") return textEquals(column.sql, String(value), params);
    return `${column.sql} ${SQL_OPERATORS[op]} ${params.value(String(value))}`;
  }
  const path = jsonPath(property, params);
  if (op === "eq") {
    if (typeof value === "string") {
      const text = textEquals(`(m.body #>> ${path})`, value, params);
      return `${text} or (jsonb_typeof(m.body #> ${path}) = 'array' and m.body #> ${path} @> jsonb_build_array(${params.value(value)}::text))`;
    }
    const json = params.value(JSON.stringify(value));
    return `m.body #> ${path} = ${json}::jsonb or (jsonb_typeof(m.body #> ${path}) = 'array' and m.body #> ${path} @> jsonb_build_array(${json}::jsonb))`;
  }
  if (typeof value === "number") {
    return `(case when jsonb_typeof(m.body #> ${path}) = 'number' then (m.body #>> ${path})::numeric end) ${SQL_OPERATORS[op]} ${params.value(value)}`;
  }
  return `(case when jsonb_typeof(m.body #> ${path}) = 'string' then m.body #>> ${path} end) ${SQL_OPERATORS[op]} ${params.value(String(value))}`;
}

function textEquals(sql: string, value: string, params: SqlParams): string {
  return value.includes("*") ? `${sql} like ${params.value(wildcardPattern(value))}` : `${sql} = ${params.value(value)}`;
}

/** ORDER BY for `$orderby`, always ending in the id so pages never overlap or skip. */
export function compileOrderBy(items: readonly OrderItem[], params: SqlParams): string {
  const parts = items.map((item) => {
    const column = COLUMNS[item.property];
    const sql = column ? column.sql : `m.body #>> ${jsonPath(item.property, params)}`;
    return `${sql} ${item.descending ? "desc" : "asc"} nulls last`;
  });
  return [...parts, "m.id asc"].join(", ");
}
