/** The APIs whose changes the platform notifies about (Notifications 2.0 `apis`, CometD channels). */
export type ChangeApi = "managedobjects" | "measurements" | "events" | "alarms" | "operations";
export type ChangeAction = "CREATE" | "UPDATE" | "DELETE";

export interface Change {
  tenant: string;
  api: ChangeApi;
  action: ChangeAction;
  /** The changed document's id. */
  id: string;
  /** The managed object it belongs to: itself for managed objects, the source or device otherwise. */
  source: string;
  type: string | undefined;
  /** The document as the API answers it; for a deletion only what identifies it. */
  document: Record<string, unknown>;
}

export type ChangeListener = (changes: readonly Change[]) => Promise<void> | void;

/**
 * Every create, update and delete of the data APIs, published after it was committed. The
 * notification APIs listen; a route awaits `publish`, so by the time a client sees its 201
 * every persistent subscriber has the notification queued.
 */
export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();

  listen(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async publish(changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    for (const listener of this.#listeners) await listener(changes);
  }
}
