// The managed store's Redis configuration (ConfigMap N-store). The settings the kernel relies on
// are fixed: an append-only file (synced as store.managed.durability.appendfsync says), and no
// eviction (the kernel refuses to start against a store that would evict panels). A replicated
// store's Sentinels read their settings from the same ConfigMap. The password is not here; see
// statefulset.ts and replication.ts.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parseQuantity } from '../../api/quantity.js';
import { childMetadata } from '../labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from '../plan.js';
import {
  SENTINEL_CONF_KEY,
  SENTINEL_MASTER_CONF_KEY,
  replicationConf,
  sentinelConf,
  sentinelMasterConf,
} from './replication.js';

export const REDIS_CONF_KEY = 'redis.conf';

export function redisConf(plan: RuntimePlan): string {
  const maxmemory = Math.floor(parseQuantity(plan.spec.store.managed.maxmemory) ?? 0);
  return [
    `# The panel store of NexusRuntime ${plan.namespace}/${plan.name}, written by nexus-operator.`,
    'bind * -::*',
    `port ${PORTS.store}`,
    'dir /data',
    'appendonly yes',
    `appendfsync ${plan.spec.store.managed.durability.appendfsync}`,
    'appenddirname appendonlydir',
    // The append-only file is the persistence; RDB snapshots would only add forks.
    'save ""',
    `maxmemory ${maxmemory}`,
    'maxmemory-policy noeviction',
    ...(replicatedStore(plan) ? replicationConf(plan) : []),
    '',
  ].join('\n');
}

/** The ConfigMap's files; their hash restarts the store's pods when one changes. */
export function storeConfigData(plan: RuntimePlan): Record<string, string> {
  const data: Record<string, string> = { [REDIS_CONF_KEY]: redisConf(plan) };
  if (replicatedStore(plan)) {
    data[SENTINEL_CONF_KEY] = sentinelConf(plan);
    data[SENTINEL_MASTER_CONF_KEY] = sentinelMasterConf(plan);
  }
  return data;
}

export function buildStoreConfig(plan: RuntimePlan): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(plan, 'storeConfig'),
    data: storeConfigData(plan),
  };
}
