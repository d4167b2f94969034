// What the registry announces about panels — created, updated, deleted — to whoever keeps
// something per panel (the live feeds, the registry's own cache), so that every way of changing
// a panel reaches them the same way: an HTTP request, a lapsed deletion the store completes,
// another kernel's change heard on the store's feed. A new way to change a panel announces;
// nothing else has to remember whom to tell.

import type { Logger } from 'pino';

export type PanelChange =
  /** Admitted: listed and served. */
  | { readonly kind: 'created'; readonly id: string }
  /** The store holds a newer definition of the panel than the one this kernel had. */
  | { readonly kind: 'updated'; readonly id: string }
  /**
   * Gone, however it went. May be announced more than once for one panel (deleted here, then
   * heard from the store): listeners treat it as idempotent.
   */
  | { readonly kind: 'deleted'; readonly id: string };

export type PanelChangeListener = (change: PanelChange) => void;

/** A small typed observer list; listeners run synchronously, in the order they were added. */
export class PanelChanges {
  private readonly listeners = new Set<PanelChangeListener>();

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns its removal. */
  on(listener: PanelChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  announce(change: PanelChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        // One listener's failure must not keep the others from hearing of the change.
        this.logger.error(
          { panelId: change.id, change: change.kind, err: error },
          'a panel change listener failed',
        );
      }
    }
  }
}
