// The one-time move of a runtime from the embedded store to a shared one: the panels found in the
// embedded store's directory are copied into the shared store (those whose id it does not hold
// yet) and each file is moved aside (`.imported`), so the switch keeps the panels and happens
// once. Not part of the store's interface: only a shared engine takes imports (ImportTarget).

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { KernelConfig } from '../config.js';
import { EmbeddedStore } from './embedded.js';
import { storeLimits } from './index.js';
import type { NewPanel, PanelStore } from './types.js';

/** A store that takes panels imported from an embedded store's files. */
export interface ImportTarget {
  /** Writes the panel (ready, keeping its version), unless one with its id exists; true when it did. */
  import(panel: NewPanel): Promise<boolean>;
}

function takesImports(store: object): store is ImportTarget {
  return typeof (store as Partial<ImportTarget>).import === 'function';
}

/** Imports the embedded store's panels into `store` when it is a shared one; returns how many. */
export async function importEmbeddedPanels(
  config: KernelConfig,
  store: PanelStore,
  logger: Logger,
): Promise<number> {
  if (store.kind === 'embedded' || !takesImports(store) || !existsSync(config.persistDir)) return 0;
  const embedded = new EmbeddedStore(config.persistDir, storeLimits(config), logger, store.origin);
  let imported = 0;
  // One file at a time: the import holds one panel's record, whatever the directory holds.
  await embedded.records(async (record) => {
    // A panel whose delete was under way is not brought back.
    if (record.phase === 'deleting') return embedded.retire(record.id);
    const definition = JSON.parse(record.definition) as { title?: string; tools?: Record<string, unknown> };
    const added = await store.import({
      id: record.id,
      epoch: randomUUID(),
      definition: record.definition,
      title: definition.title ?? '',
      tools: Object.keys(definition.tools ?? {}),
      state: record.state,
      createdAt: record.createdAt,
      version: record.version,
      revision: record.revision,
    });
    if (added) imported += 1;
    await embedded.retire(record.id);
  });
  if (imported > 0)
    logger.info({ panels: imported, from: config.persistDir }, 'panels imported into the shared store');
  return imported;
}
