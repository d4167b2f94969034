import { API_VERSION, FIELD_MANAGER, KIND } from '../api/group.js';
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import type { RuntimePlan } from './plan.js';

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const APP_NAME = 'workspace-kernel';

/** The labels a kernel pod is selected by. Deployment selectors are immutable: never add to these. */
export function selectorLabels(runtimeName: string): Record<string, string> {
  return { [LABEL.name]: APP_NAME, [LABEL.instance]: runtimeName };
}

/** Labels on every object the operator creates; the informers watch by the managed-by label. */
export function commonLabels(runtimeName: string): Record<string, string> {
  return { ...selectorLabels(runtimeName), [LABEL.managedBy]: FIELD_MANAGER };
}

export const MANAGED_SELECTOR = `${LABEL.managedBy}=${FIELD_MANAGER}`;

export function labelSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function ownerReference(plan: RuntimePlan): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: plan.name,
    uid: plan.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata shared by every child object: name, namespace, labels, controller owner reference. */
export function childMetadata(plan: RuntimePlan, name: string): V1ObjectMeta {
  return {
    name,
    namespace: plan.namespace,
    labels: commonLabels(plan.name),
    ownerReferences: [ownerReference(plan)],
  };
}
