// Only this runtime's kernel pods reach its store, on the Redis port (and the Sentinel port when
// replicated). One Redis reaches nothing (it has no egress rule). A replicated store's pods reach
// one another (replication, the Sentinels' hellos) and DNS (they know one another by name), and
// the operator reaches the Sentinels to report the primary in the status. Always created with a
// managed store, whatever spec.networkPolicy says: a Redis with a password is still no reason to
// accept every pod.
import type { V1NetworkPolicy, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { Component } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from '../plan.js';

const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: 'TCP', port });

/** The operator's pods, in whichever namespace it runs (the label its manifests and chart set). */
export const OPERATOR_POD_LABELS = { 'app.kubernetes.io/name': 'nexus-operator' } as const;

export function buildStoreNetworkPolicy(plan: RuntimePlan): V1NetworkPolicy {
  const kernels = { podSelector: { matchLabels: selectorLabels(plan.name) } };
  const store = { podSelector: { matchLabels: selectorLabels(plan.name, Component.Store) } };
  const policy: V1NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(plan, 'storeNetworkPolicy'),
    spec: {
      podSelector: store.podSelector,
      policyTypes: ['Ingress', 'Egress'],
      // client-node's model spells `from` as `_from` (and serializes it back).
      ingress: [{ _from: [kernels], ports: [tcp(PORTS.store)] }],
    },
  };
  if (replicatedStore(plan)) {
    const both = [tcp(PORTS.store), tcp(PORTS.sentinel)];
    policy.spec!.ingress = [
      { _from: [kernels, store], ports: both },
      {
        _from: [{ namespaceSelector: {}, podSelector: { matchLabels: { ...OPERATOR_POD_LABELS } } }],
        ports: [tcp(PORTS.sentinel)],
      },
    ];
    policy.spec!.egress = [
      // Cluster DNS lives in different places on different clusters: any address, port 53 only.
      { ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] },
      { to: [store], ports: both },
    ];
  }
  return policy;
}
