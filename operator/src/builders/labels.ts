import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { CHILDREN, type ChildKey } from '../api/children.js';
import { API_VERSION, KIND } from '../api/group.js';
import { commonLabels } from '../api/labels.js';
import type { RuntimePlan } from './plan.js';

/** What names a runtime's objects and makes it their owner. */
export type PlanIdentity = Pick<RuntimePlan, 'name' | 'namespace' | 'uid'>;

export function ownerReference(plan: PlanIdentity): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: plan.name,
    uid: plan.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Metadata of a child object, from its row of the child table: name, namespace, the labels of its
 * component and the controller owner reference (left out with `owned: false`, for a volume the
 * user asked to keep when the runtime is deleted).
 */
export function childMetadata(plan: PlanIdentity, key: ChildKey, owned = true): V1ObjectMeta {
  const row = CHILDREN[key];
  const metadata: V1ObjectMeta = {
    name: row.name(plan.name),
    namespace: plan.namespace,
    labels: commonLabels(plan.name, row.component),
  };
  if (owned) metadata.ownerReferences = [ownerReference(plan)];
  return metadata;
}
