/** How work running in the background ended. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Work started now and awaited later: a zip's check running beside its upload, the layers'
 * verification beside the zip being written. A failure is held, never swallowed and never
 * unhandled while nobody waits: `settled` resolves with how it ended, and every `result()`
 * rethrows the failure to whoever asks for the value.
 */
export interface Background<T> {
  readonly settled: Promise<Settled<T>>;
  result(): Promise<T>;
}

export function inBackground<T>(work: Promise<T>): Background<T> {
  const settled = work.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
  return {
    settled,
    result: async () => {
      const outcome = await settled;
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    },
  };
}
