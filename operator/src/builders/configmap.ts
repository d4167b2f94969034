import type { V1ConfigMap } from '@kubernetes/client-node';
import type { EnvironmentVariable } from '@nexus/kernel/config-table';
import { parseQuantity } from '../api/quantity.js';
import { shutdownGraceMs } from './grace.js';
import { contentHash } from './hash.js';
import { childMetadata } from './labels.js';
import {
  CACHE_DIR,
  PERSIST_DIR,
  PORTS,
  STORE_CA_MOUNT,
  replicatedStore,
  singleKernel,
  type RuntimePlan,
} from './plan.js';
import { SENTINEL_MASTER, sentinelAddresses } from './store/replication.js';

const bytes = (quantity: string) => String(Math.floor(parseQuantity(quantity) ?? 0));

/**
 * The kernel's environment, one string per variable (docs/crd-reference.md lists them), named as
 * the kernel's variable table names them. STORE_URL is not here: it carries credentials and comes
 * from a Secret (see deployment.ts).
 */
export function buildConfigData(plan: RuntimePlan): Record<string, string> {
  const { runtime, server, cache, store } = plan.spec;
  const data: { [name in EnvironmentVariable]?: string } = {
    MEMORY_LIMIT_MB: String(runtime.memoryLimitMB),
    MAX_INSTANCES: String(plan.maxInstances),
    MIN_INSTANCES: String(Math.min(runtime.minInstances, plan.maxInstances)),
    TIMEOUT_MS: String(runtime.timeoutMs),
    EXECUTION_DEADLINE_MS: String(runtime.executionDeadlineMs),
    SHUTDOWN_GRACE_MS: String(shutdownGraceMs(plan.spec)),
    MAX_HOST_CALLS: String(runtime.maxHostCalls),
    MAX_STATE_MUTATIONS: String(runtime.maxStateMutations),
    MAX_EVENTS: String(runtime.maxEvents),
    MAX_STATE_BYTES: bytes(runtime.maxStateSize),
    MAX_PANELS: String(plan.maxPanels),
    PANEL_CACHE_MAX_BYTES: bytes(runtime.panelCacheSize),
    STORE_HISTORY: String(store.history),
    // What a panel keeps in the store: the store budget (policies/store-budget.ts) counts the same.
    STORE_HISTORY_BYTES: bytes(store.historySize),
    PANEL_REVISIONS: String(store.revisions),
    PANEL_LOG_LINES: String(store.logRing.lines),
    PANEL_LOG_BYTES: bytes(store.logRing.size),
    IDEMPOTENCY_KEYS: String(store.idempotency.keys),
    IDEMPOTENCY_RESULT_BYTES: bytes(store.idempotency.resultSize),
    IDEMPOTENCY_TTL_SECONDS: String(store.idempotency.retentionSeconds),
    BODY_LIMIT: bytes(server.maxBodySize),
    LOG_LEVEL: server.logLevel,
    HTTP_PORT: String(PORTS.http),
    WS_PORT: String(PORTS.ws),
    HOST: '0.0.0.0',
    CACHE_DIR,
    CACHE_MAX_BYTES: bytes(cache.sizeLimit),
    CORS_ORIGINS: server.corsOrigins.join(','),
    // The kernels answer to their Service's names, IP addresses, localhost and these (an Ingress').
    ALLOWED_HOSTS: server.allowedHosts.join(','),
    SERVICE_NAME: plan.name,
    SERVICE_NAMESPACE: plan.namespace,
    HTTP_ALLOWED_DOMAINS: server.allowedDomains.join(','),
    NODE_ENV: 'production',
  };
  if (plan.store.mode !== 'Embedded') {
    data.STORE_TOPOLOGY = plan.store.mode === 'External' ? plan.store.topology : 'standalone';
    data.STORE_KEY_PREFIX = store.keyPrefix;
  }
  // One Redis acknowledges without replicas (the kernel's default), and its variables stay as
  // they were. Replicated, STORE_URL (from the Secret) names the Sentinels' Service; these add
  // each pod's own Sentinel and the acknowledgement.
  if (replicatedStore(plan)) {
    const { durability } = store.managed;
    data.STORE_TOPOLOGY = 'sentinel';
    data.STORE_SENTINELS = sentinelAddresses(plan).join(',');
    data.STORE_SENTINEL_MASTER = SENTINEL_MASTER;
    data.STORE_ACK_REPLICAS = String(durability.ackReplicas);
    data.STORE_ACK_TIMEOUT_MS = String(durability.ackTimeoutMs);
  }
  if (plan.store.mode === 'External') Object.assign(data, externalStoreVariables(plan));
  if (plan.store.mode === 'External' && plan.store.caSecretRef) {
    data.STORE_TLS_CA_FILE = `${STORE_CA_MOUNT}/ca.crt`;
  }
  // The panels volume: the embedded store's files, or the ones a shared store imports once.
  if (singleKernel(plan)) data.PERSIST_DIR = PERSIST_DIR;
  return data;
}

/**
 * An external store's Sentinels and acknowledgement. With topology sentinel, STORE_URL (from the
 * user's Secret) names the first Sentinel; the others, the master's name and the acknowledgement
 * are written as the managed replicated store writes them. Standalone or Cluster, the
 * acknowledgement is written only when it waits for replicas: the kernel's default is none, and an
 * unchanged ConfigMap rolls no pods.
 */
function externalStoreVariables(plan: RuntimePlan): { [name in EnvironmentVariable]?: string } {
  const { topology, sentinels, masterName, durability } = plan.spec.store.external;
  const data: { [name in EnvironmentVariable]?: string } = {};
  if (topology === 'sentinel') {
    if (sentinels.length > 0) data.STORE_SENTINELS = sentinels.join(',');
    data.STORE_SENTINEL_MASTER = masterName ?? SENTINEL_MASTER;
  }
  if (topology === 'sentinel' || durability.ackReplicas > 0) {
    data.STORE_ACK_REPLICAS = String(durability.ackReplicas);
    data.STORE_ACK_TIMEOUT_MS = String(durability.ackTimeoutMs);
  }
  return data;
}

/** The hash the Deployment's pod template carries: a change of any variable rolls the pods. */
export function configHash(data: Record<string, string>): string {
  return contentHash(data);
}

export function buildConfigMap(plan: RuntimePlan): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(plan, 'configMap'),
    data: buildConfigData(plan),
  };
}
