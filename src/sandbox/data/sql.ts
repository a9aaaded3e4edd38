/**
 * Collects the parameters of one statement: `sql.value(x)` returns its placeholder (`$3`), so
 * conditions are written next to their values and nothing a client sends becomes SQL text.
 */
export class SqlParams {
  readonly values: unknown[];

  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }

  value(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** `a and b and c`, or `true` when there is nothing to check. */
export function allOf(conditions: readonly string[]): string {
  return conditions.length === 0 ? "true" : conditions.map((c) => `(${c})`).join(" and ");
}

/** `from` inclusive, `to` exclusive. */
export function timeConditions(params: SqlParams, column: string, from: Date | undefined, to: Date | undefined): string[] {
  const conditions: string[] = [];
  if (from !== undefined) conditions.push(`${column} >= ${params.value(from.toISOString())}`);
  if (to !== undefined) conditions.push(`${column} < ${params.value(to.toISOString())}`);
  return conditions;
}
