import type { ResolvedSpec } from '../api/defaults.js';
import type { SecretKeyRef, StoreTopology } from '../api/types.js';

/**
 * Everything the builders need, decided before any of them runs: the runtime's identity, its
 * resolved spec, the pool size and panel bound the budgets settled on, and the store as the
 * reconciler found it. Builders are pure functions of it.
 */
export interface RuntimePlan {
  name: string;
  namespace: string;
  uid: string;
  spec: ResolvedSpec;
  maxInstances: number;
  maxPanels: number;
  store: StorePlan;
  panels: PanelsPhase;
}

/**
 * Where the panels volume (PVC N-panels) stands. `embedded`: it is the store. With a shared store,
 * a volume left from an embedded store is imported once: `importing` runs one kernel with the
 * volume mounted (the kernel imports PERSIST_DIR at start), `imported` keeps that kernel while the
 * volume is deleted, and `none` (no volume, or one being deleted) runs the fleet without it.
 */
export type PanelsPhase = 'embedded' | 'importing' | 'imported' | 'none';

/**
 * The managed store's Secret as created (or read back): its password and the kernels' URLs, of
 * the Redis Service (one Redis) and of the Sentinels' Service (replicated; absent from a Secret
 * written before the store could be replicated).
 */
export interface StoreCredentials {
  password: string;
  url: string;
  sentinelUrl?: string;
}

export type StorePlan =
  | {
      mode: 'Managed';
      credentials: StoreCredentials;
      /** The store's persistence as it will run (a live StatefulSet's volume cannot change). */
      persistence: { enabled: boolean; size: string; storageClassName?: string };
      /**
       * The Service that governs the store's pods (gives them DNS names when headless): the live
       * StatefulSet's, which cannot change, or the headless storePods Service for a new one.
       */
      serviceName: string;
    }
  | {
      mode: 'External';
      urlSecretRef: SecretKeyRef;
      caSecretRef?: SecretKeyRef;
      topology: StoreTopology;
      /** The store's port, for the kernels' egress rule. */
      port: number;
      /** Hash of the referenced Secrets' content: a change rolls the kernels. */
      contentHash: string;
    }
  | { mode: 'Embedded' };

export const PORTS = { http: 3000, ws: 3001, store: 6379, sentinel: 26379 } as const;
export const CACHE_DIR = '/var/cache/nexus';
/** Where an embedded store's volume is mounted; its panels live in PERSIST_DIR below it. */
export const PANELS_MOUNT = '/var/lib/nexus';
export const PERSIST_DIR = `${PANELS_MOUNT}/panels`;
export const STORE_CA_MOUNT = '/etc/nexus/store-ca';
/** Kernel and store processes run as this non-root user; the kernel image's `nexus` user has the same id. */
export const KERNEL_UID = 10001;

/** Whether the managed store is replicated: a primary, replicas and Sentinels. */
export function replicatedStore(plan: RuntimePlan): boolean {
  return plan.store.mode === 'Managed' && plan.spec.store.managed.replicas > 1;
}

/** Whether the kernels share a store (and so may run more than one replica). */
export function sharedStore(plan: RuntimePlan): boolean {
  return plan.store.mode !== 'Embedded';
}

/** One kernel with the panels volume mounted: an embedded store, or one imported into a shared store. */
export function singleKernel(plan: RuntimePlan): boolean {
  return plan.panels !== 'none';
}
