// Picks the panel store from the configuration (the one-time import of an embedded store's
// panels into a shared one is import.ts; timing every operation is timed.ts).

import { randomUUID } from 'node:crypto';
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
    ...config.panelRetention,
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
      ...(config.store.sentinel === undefined ? {} : { sentinel: config.store.sentinel }),
    },
    log,
  );
  return new RedisStore(
    link,
    { prefix: config.store.keyPrefix, limits, origin, leaseMs: LEASE_MS, ack: config.store.ack },
    log,
  );
}
