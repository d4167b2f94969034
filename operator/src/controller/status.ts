// The status of a NexusRuntime, built in memory once per pass and compared with what is stored.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Condition } from '../api/conditions.js';
import { labelSelectorString, selectorLabels } from '../api/labels.js';
import type { MemoryBudgetStatus, NexusRuntimeStatus, StoreStatus } from '../api/types.js';
import { canonicalJson } from '../builders/hash.js';
import { serviceEndpoints } from '../builders/service.js';

export interface StatusInput {
  name: string;
  namespace: string;
  generation?: number;
  conditions: Condition[];
  deployment?: V1Deployment;
  configHash?: string;
  memoryBudget?: MemoryBudgetStatus;
  image?: string;
  store: StoreStatus;
}

export function buildStatus(input: StatusInput): NexusRuntimeStatus {
  const d = input.deployment;
  const status: NexusRuntimeStatus = {
    conditions: input.conditions,
    replicas: d?.status?.replicas ?? 0,
    // What the Deployment is asked for: the HPA's count under autoscaling, else ours.
    desiredReplicas: d ? (d.spec?.replicas ?? 1) : 0,
    readyReplicas: d?.status?.readyReplicas ?? 0,
    updatedReplicas: d?.status?.updatedReplicas ?? 0,
    availableReplicas: d?.status?.availableReplicas ?? 0,
    selector: labelSelectorString(selectorLabels(input.name)),
    endpoints: serviceEndpoints(input.name, input.namespace),
    store: input.store,
  };
  if (input.generation !== undefined) status.observedGeneration = input.generation;
  if (input.configHash) status.configHash = input.configHash;
  if (input.memoryBudget) status.memoryBudget = input.memoryBudget;
  if (input.image) status.image = input.image;
  return status;
}

/** Equal as stored: key order and absent-versus-undefined do not count. */
export function sameStatus(a: NexusRuntimeStatus | undefined, b: NexusRuntimeStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}

/** The image the Deployment actually runs (which is the last good one while a spec is rejected). */
export function runningImage(deployment: V1Deployment | undefined): string | undefined {
  return deployment?.spec?.template?.spec?.containers?.find((c) => c.name === 'kernel')?.image;
}
