// The managed store's Redis configuration (ConfigMap N-store). The settings the kernel relies on
// are fixed: an append-only file synced every second, and no eviction (the kernel refuses to start
// against a store that would evict panels). The password is not here; see statefulset.ts.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parseQuantity } from '../../api/quantity.js';
import { childMetadata } from '../labels.js';
import { PORTS, type RuntimePlan } from '../plan.js';

export const REDIS_CONF_KEY = 'redis.conf';

export function redisConf(plan: RuntimePlan): string {
  const maxmemory = Math.floor(parseQuantity(plan.spec.store.managed.maxmemory) ?? 0);
  return [
    `# The panel store of NexusRuntime ${plan.namespace}/${plan.name}, written by nexus-operator.`,
    'bind * -::*',
    `port ${PORTS.store}`,
    'dir /data',
    'appendonly yes',
    'appendfsync everysec',
    'appenddirname appendonlydir',
    // The append-only file is the persistence; RDB snapshots would only add forks.
    'save ""',
    `maxmemory ${maxmemory}`,
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

export function buildStoreConfig(plan: RuntimePlan): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(plan, 'storeConfig'),
    data: { [REDIS_CONF_KEY]: redisConf(plan) },
  };
}
