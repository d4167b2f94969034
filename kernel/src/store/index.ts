// Picks the panel store from the configuration and, when a shared store takes over from the
// embedded one, imports the panels found in the embedded store's directory once.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { KernelConfig } from '../config.js';
import { EmbeddedStore } from './embedded.js';
import { RedisLink, redactUrl } from './redis-link.js';
import { RedisStore } from './redis.js';
import type { PanelStore, StoreLimits } from './types.js';

export type { PanelStore } from './types.js';

/** How long a lease lasts unless renewed (the holder renews it every third of this). */
const LEASE_MS = 5000;

export function storeLimits(config: KernelConfig): StoreLimits {
  return {
    maxPanels: config.maxPanels,
    maxStateBytes: config.maxStateBytes,
    historyLength: config.store.historyLength,
    historyBytes: config.store.historyBytes,
  };
}

/** Where the store lives, without credentials (logs, /health). */
export function describeStore(config: KernelConfig): string {
  return config.store.kind === 'embedded' ? config.persistDir : redactUrl(config.store.url);
}

export function createStore(config: KernelConfig, logger: Logger): PanelStore {
  // Unique per process: a restarted pod with the same name is a new publisher.
  const origin = `${config.instanceName}/${randomUUID().slice(0, 8)}`;
  const limits = storeLimits(config);
  const log = logger.child({ component: 'store' });
  if (config.store.kind === 'embedded') return new EmbeddedStore(config.persistDir, limits, log, origin);
  const link = new RedisLink(
    {
      url: config.store.url,
      topology: config.store.topology,
      ...(config.store.tlsCaFile === undefined ? {} : { tlsCaFile: config.store.tlsCaFile }),
      commandTimeoutMs: config.store.timeoutMs,
      name: `nexus-kernel:${config.instanceName}`,
    },
    log,
  );
  return new RedisStore(link, { prefix: config.store.keyPrefix, limits, origin, leaseMs: LEASE_MS }, log);
}

/**
 * Copies the panels of an embedded store's directory into a shared store (those whose id it does
 * not hold yet) and moves each file aside (`.imported`), so switching a runtime from the
 * embedded store keeps its panels and happens once.
 */
export async function importEmbeddedPanels(
  config: KernelConfig,
  store: PanelStore,
  logger: Logger,
): Promise<number> {
  if (store.kind === 'embedded' || !existsSync(config.persistDir)) return 0;
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
    });
    if (added) imported += 1;
    await embedded.retire(record.id);
  });
  if (imported > 0)
    logger.info({ panels: imported, from: config.persistDir }, 'panels imported into the shared store');
  return imported;
}
