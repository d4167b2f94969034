import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { selectorLabels } from '../api/labels.js';
import { childMetadata } from './labels.js';
import { singleKernel, type RuntimePlan } from './plan.js';

/** The most pods the runtime can have; a budget only makes sense above one. */
export function maxPossibleReplicas(plan: RuntimePlan): number {
  const { suspend, autoscaling, replicas } = plan.spec;
  if (suspend) return 0;
  if (singleKernel(plan)) return 1;
  return autoscaling.enabled ? autoscaling.maxReplicas : replicas;
}

export function buildPdb(plan: RuntimePlan): V1PodDisruptionBudget | undefined {
  if (maxPossibleReplicas(plan) <= 1) return undefined;
  const { minAvailable, maxUnavailable } = plan.spec.disruption;
  const budget = minAvailable !== undefined ? { minAvailable } : { maxUnavailable: maxUnavailable ?? 1 };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(plan, 'pdb'),
    spec: { selector: { matchLabels: selectorLabels(plan.name) }, ...budget },
  };
}
