// Every child object of one runtime, built from its plan: one builder per row of the child table.
// A row left out means "must not exist"; the apply loop deletes what is there.
import { APPLIED_HASH_ANNOTATION } from '../api/group.js';
import { CHILDREN, CHILD_KEYS, Component, type ChildKey, type Children } from '../api/children.js';
import { buildConfigData, buildConfigMap, configHash } from './configmap.js';
import { buildDeployment } from './deployment.js';
import { contentHash } from './hash.js';
import { buildHpa } from './hpa.js';
import { buildKernelNetworkPolicy } from './network-policy.js';
import { buildPanelsVolume } from './panels-volume.js';
import { buildPdb } from './pdb.js';
import type { RuntimePlan } from './plan.js';
import { buildService } from './service.js';
import { buildStoreConfig } from './store/config.js';
import { buildStoreNetworkPolicy } from './store/network-policy.js';
import { buildStoreSecret } from './store/secret.js';
import { buildStorePdb } from './store/pdb.js';
import { buildStorePodsService, buildStoreSentinelService, buildStoreService } from './store/service.js';
import { buildStoreStatefulSet } from './store/statefulset.js';

export interface DesiredState {
  /** Hash of the kernel ConfigMap's data, carried by the pod template. */
  configHash: string;
  objects: Children;
}

interface WithMetadata {
  metadata?: { annotations?: Record<string, string> };
}

/**
 * Stamp the hash of an object's desired content on it. A live object that carries the same hash
 * and agrees on every desired field needs no write, which keeps an idle operator silent.
 */
export function stampAppliedHash<T extends WithMetadata>(object: T): T {
  const hash = contentHash(object);
  const metadata = object.metadata ?? {};
  return {
    ...object,
    metadata: { ...metadata, annotations: { ...metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash } },
  };
}

export function buildDesiredState(plan: RuntimePlan): DesiredState {
  const hash = configHash(buildConfigData(plan));
  const built: Children = {
    configMap: buildConfigMap(plan),
    service: buildService(plan),
    deployment: buildDeployment(plan, hash),
    hpa: buildHpa(plan),
    pdb: buildPdb(plan),
    networkPolicy: buildKernelNetworkPolicy(plan),
  };
  if (plan.panels === 'embedded') built.panelsVolume = buildPanelsVolume(plan);
  if (plan.store.mode === 'Managed') {
    built.storeSecret = buildStoreSecret(plan, plan.store.credentials);
    built.storeConfig = buildStoreConfig(plan);
    built.storeService = buildStoreService(plan);
    built.storePods = buildStorePodsService(plan);
    built.storeSentinelService = buildStoreSentinelService(plan);
    built.storeStatefulSet = buildStoreStatefulSet(plan);
    built.storeNetworkPolicy = buildStoreNetworkPolicy(plan);
    built.storePdb = buildStorePdb(plan);
  }
  const objects: Record<string, unknown> = {};
  for (const key of CHILD_KEYS) {
    const object = built[key];
    // A created-once object is compared by existence only; the others carry their content hash.
    if (object) objects[key] = CHILDREN[key].write === 'apply' ? stampAppliedHash(object) : object;
  }
  return { configHash: hash, objects: objects };
}

/**
 * The desired state with some rows replaced by what exists now (or by nothing, when nothing
 * does): the reconciler holds the kernels this way while a store they must wait for starts, and
 * keeps a volume that is being imported.
 */
export function keepAsObserved(objects: Children, observed: Children, keys: readonly ChildKey[]): Children {
  const kept: Record<string, unknown> = { ...objects };
  for (const key of keys) {
    if (observed[key]) kept[key] = observed[key];
    else delete kept[key];
  }
  return kept;
}

/** The rows of the kernel component, the panels volume aside. */
export const KERNEL_ROWS = CHILD_KEYS.filter(
  (key) => CHILDREN[key].component === Component.Kernel && key !== 'panelsVolume',
);
