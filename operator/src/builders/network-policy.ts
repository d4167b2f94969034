// The kernels' NetworkPolicy: ingress on the http and ws ports (the Prometheus scrape of /metrics
// is on http), egress to DNS, the store, and the http extension's ports. A NetworkPolicy cannot
// name domains: the kernel enforces allowedDomains itself, the policy adds ports and, when
// spec.networkPolicy.egressCIDRs is set, address ranges.
import type {
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyPort,
} from '@kubernetes/client-node';
import { Component } from '../api/children.js';
import { selectorLabels } from '../api/labels.js';
import { childMetadata } from './labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from './plan.js';

const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: 'TCP', port });

/** The ports the http extension may reach: those allowedDomains name, else 80 and 443. */
export function httpExtensionPorts(allowedDomains: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const domain of allowedDomains) {
    const match = /:(\d+)$/.exec(domain);
    if (match) ports.add(Number(match[1]));
    else [80, 443].forEach((p) => ports.add(p));
  }
  return [...ports].sort((a, b) => a - b);
}

function egress(plan: RuntimePlan): V1NetworkPolicyEgressRule[] {
  const { egressCIDRs } = plan.spec.networkPolicy;
  const anywhere = egressCIDRs.length === 0 ? {} : { to: egressCIDRs.map((cidr) => ({ ipBlock: { cidr } })) };
  const rules: V1NetworkPolicyEgressRule[] = [
    // Cluster DNS lives in different places on different clusters: any address, port 53 only.
    { ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] },
  ];
  if (plan.store.mode === 'Managed') {
    rules.push({
      to: [{ podSelector: { matchLabels: selectorLabels(plan.name, Component.Store) } }],
      // Replicated, the kernels ask the Sentinels which pod is primary.
      ports: replicatedStore(plan) ? [tcp(PORTS.store), tcp(PORTS.sentinel)] : [tcp(PORTS.store)],
    });
  } else if (plan.store.mode === 'External' && plan.store.topology === 'sentinel') {
    // The Sentinels name the primary and its replicas by an address and port of their own, which
    // the operator does not know: every port, to egressCIDRs when they are set.
    rules.push(anywhere);
  } else if (plan.store.mode === 'External') {
    rules.push({ ...anywhere, ports: [tcp(plan.store.port)] });
  }
  const httpPorts = httpExtensionPorts(plan.spec.server.allowedDomains);
  if (httpPorts.length > 0) rules.push({ ...anywhere, ports: httpPorts.map(tcp) });
  return rules;
}

export function buildKernelNetworkPolicy(plan: RuntimePlan): V1NetworkPolicy | undefined {
  const { enabled, ingressFrom } = plan.spec.networkPolicy;
  if (!enabled) return undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(plan, 'networkPolicy'),
    spec: {
      podSelector: { matchLabels: selectorLabels(plan.name) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        // client-node's model spells `from` as `_from` (and serializes it back).
        {
          ...(ingressFrom.length > 0 ? { _from: ingressFrom } : {}),
          ports: [tcp(PORTS.http), tcp(PORTS.ws)],
        },
      ],
      egress: egress(plan),
    },
  };
}
