import type { V1ConfigMap } from '@kubernetes/client-node';
import { parseQuantity } from '../api/quantity.js';
import { contentHash } from './hash.js';
import { childMetadata } from './labels.js';
import { CACHE_DIR, PORTS, childNames, type RuntimePlan } from './plan.js';

/** The kernel's environment (SPEC §3), one string per variable. */
export function buildConfigData(plan: RuntimePlan): Record<string, string> {
  const { runtime, server, cache } = plan.spec;
  return {
    MEMORY_LIMIT_MB: String(runtime.memoryLimitMB),
    MAX_INSTANCES: String(plan.maxInstances),
    MIN_INSTANCES: String(Math.min(runtime.minInstances, plan.maxInstances)),
    TIMEOUT_MS: String(runtime.timeoutMs),
    MAX_HOST_CALLS: String(runtime.maxHostCalls),
    MAX_STATE_MUTATIONS: String(runtime.maxStateMutations),
    MAX_EVENTS: String(runtime.maxEvents),
    LOG_LEVEL: server.logLevel,
    HTTP_PORT: String(PORTS.http),
    WS_PORT: String(PORTS.ws),
    HOST: '0.0.0.0',
    CACHE_DIR,
    CACHE_MAX_BYTES: String(Math.floor(parseQuantity(cache.sizeLimit) ?? 0)),
    CORS_ORIGINS: server.corsOrigins.join(','),
    HTTP_ALLOWED_DOMAINS: server.allowedDomains.join(','),
    NODE_ENV: 'production',
  };
}

/** The hash the Deployment's pod template carries: a change of any variable rolls the pods. */
export function configHash(data: Record<string, string>): string {
  return contentHash(data);
}

export function buildConfigMap(plan: RuntimePlan): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(plan, childNames(plan.name).configMap),
    data: buildConfigData(plan),
  };
}
