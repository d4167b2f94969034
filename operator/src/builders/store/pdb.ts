import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { Component } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { replicatedStore, type RuntimePlan } from '../plan.js';

/**
 * A replicated store's disruption budget: one pod at a time, so that a drain never takes the
 * primary and its replicas together. One Redis has none: a budget would only block the drain of
 * its node, and the store is down while it moves either way.
 */
export function buildStorePdb(plan: RuntimePlan): V1PodDisruptionBudget | undefined {
  if (!replicatedStore(plan)) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(plan, 'storePdb'),
    spec: { selector: { matchLabels: selectorLabels(plan.name, Component.Store) }, maxUnavailable: 1 },
  };
}
