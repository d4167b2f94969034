// Shared fixtures for unit tests (not part of the build).
import { resolveSpec, type DefaultImages, type ResolvedSpec } from '../api/defaults.js';
import type { NexusRuntime, NexusRuntimeSpec } from '../api/types.js';
import type { PanelsPhase, RuntimePlan, StorePlan } from '../builders/plan.js';
import { storeCredentials } from '../builders/store/secret.js';

export const IMAGE = 'localhost/nexus/workspace-kernel:test';
export const STORE_IMAGE = 'localhost/nexus/redis:test';
export const IMAGES: DefaultImages = { kernel: IMAGE, store: STORE_IMAGE };
export const PASSWORD = 'p4ssw0rd';

export function runtime(spec: NexusRuntimeSpec = {}, name = 'demo', namespace = 'team-a'): NexusRuntime {
  return {
    apiVersion: 'nexus.dev/v1alpha1',
    kind: 'NexusRuntime',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec,
  };
}

export function spec(overrides: NexusRuntimeSpec = {}): ResolvedSpec {
  return resolveSpec(overrides, IMAGES);
}

/** The store plan the reconciler would settle on for a spec whose Secrets are all in order. */
export function storePlan(s: ResolvedSpec, name = 'demo', namespace = 'team-a'): StorePlan {
  const { mode, managed, external } = s.store;
  if (mode === 'Managed') {
    const { enabled, size, storageClassName } = managed.persistence;
    return {
      mode,
      credentials: storeCredentials(name, namespace, PASSWORD),
      persistence: { enabled, size, ...(storageClassName ? { storageClassName } : {}) },
      serviceName: `${name}-store-pods`,
    };
  }
  if (mode === 'External') {
    const plan: StorePlan = {
      mode,
      urlSecretRef: external.urlSecretRef ?? { name: 'redis', key: 'url' },
      topology: external.topology,
      port: 6379,
      contentHash: 'content-hash',
    };
    if (external.caSecretRef) plan.caSecretRef = external.caSecretRef;
    return plan;
  }
  return { mode };
}

export function plan(
  overrides: NexusRuntimeSpec = {},
  maxInstances = 25,
  name = 'demo',
  panels?: PanelsPhase,
): RuntimePlan {
  const s = spec(overrides);
  return {
    name,
    namespace: 'team-a',
    uid: `uid-${name}`,
    spec: s,
    maxInstances,
    maxPanels: 512,
    store: storePlan(s, name),
    panels: panels ?? (s.store.mode === 'Embedded' ? 'embedded' : 'none'),
  };
}
