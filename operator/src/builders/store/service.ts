import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Component, childName } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from '../plan.js';

/** The label the StatefulSet controller gives each of its pods: the pod's name. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

/**
 * The managed store's Service: the address in the Secret's `url`. It selects the first pod only:
 * one Redis' only pod, and the one that stays primary while a store switches from one Redis to
 * several, so that kernels not yet rolled to the Sentinels never write to a replica (a replicated
 * store's kernels find the primary through the Sentinels, not through this Service).
 */
export function buildStoreService(plan: RuntimePlan): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'storeService'),
    spec: {
      type: 'ClusterIP',
      selector: {
        ...selectorLabels(plan.name, Component.Store),
        [POD_NAME_LABEL]: `${childName('storeStatefulSet', plan.name)}-0`,
      },
      ports: [{ name: 'redis', port: PORTS.store, targetPort: 'redis', protocol: 'TCP' }],
    },
  };
}

/**
 * The headless Service that governs the store's StatefulSet and gives each pod a stable DNS name.
 * Pods are listed before they are ready: a starting replica must find its primary, and the
 * Sentinels one another, before any of them passes its readiness probe.
 */
export function buildStorePodsService(plan: RuntimePlan): V1Service {
  const ports: V1ServicePort[] = [{ name: 'redis', port: PORTS.store, targetPort: 'redis', protocol: 'TCP' }];
  if (replicatedStore(plan)) {
    ports.push({ name: 'sentinel', port: PORTS.sentinel, targetPort: 'sentinel', protocol: 'TCP' });
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'storePods'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(plan.name, Component.Store),
      ports,
    },
  };
}

/** The Sentinels' Service: the address of the kernels' STORE_URL in a replicated store. */
export function buildStoreSentinelService(plan: RuntimePlan): V1Service | undefined {
  if (!replicatedStore(plan)) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'storeSentinelService'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(plan.name, Component.Store),
      ports: [{ name: 'sentinel', port: PORTS.sentinel, targetPort: 'sentinel', protocol: 'TCP' }],
    },
  };
}
