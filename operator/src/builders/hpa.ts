import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { childName } from '../api/children.js';
import { childMetadata } from './labels.js';
import { singleKernel, type RuntimePlan } from './plan.js';

/** Whether the runtime gets an HPA: autoscaling on, not suspended, kernels that can run side by side. */
export function wantsHpa(plan: RuntimePlan): boolean {
  return plan.spec.autoscaling.enabled && !plan.spec.suspend && !singleKernel(plan);
}

export function buildHpa(plan: RuntimePlan): V2HorizontalPodAutoscaler | undefined {
  if (!wantsHpa(plan)) return undefined;
  const { autoscaling } = plan.spec;
  const utilization = (name: 'memory' | 'cpu', averageUtilization: number): V2MetricSpec => ({
    type: 'Resource',
    resource: { name, target: { type: 'Utilization', averageUtilization } },
  });
  const metrics = [
    utilization('memory', autoscaling.targetMemoryUtilizationPercentage),
    utilization('cpu', autoscaling.targetCPUUtilizationPercentage),
  ];
  const hpa: V2HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMetadata(plan, 'hpa'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: childName('deployment', plan.name) },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics,
    },
  };
  if (autoscaling.behavior) hpa.spec!.behavior = autoscaling.behavior;
  return hpa;
}
