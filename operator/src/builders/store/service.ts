import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Component } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from '../plan.js';

/** The managed store's Service: the address in the Secret's URL. */
export function buildStoreService(plan: RuntimePlan): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'storeService'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(plan.name, Component.Store),
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
