// Only this runtime's kernel pods reach its store, on the Redis port; the store itself reaches
// nothing (it has no egress rule). Always created with a managed store, whatever
// spec.networkPolicy says: a Redis with a password is still no reason to accept every pod.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { Component } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { PORTS, type RuntimePlan } from '../plan.js';

export function buildStoreNetworkPolicy(plan: RuntimePlan): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(plan, 'storeNetworkPolicy'),
    spec: {
      podSelector: { matchLabels: selectorLabels(plan.name, Component.Store) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          // client-node's model spells `from` as `_from` (and serializes it back).
          _from: [{ podSelector: { matchLabels: selectorLabels(plan.name) } }],
          ports: [{ protocol: 'TCP', port: PORTS.store }],
        },
      ],
    },
  };
}
