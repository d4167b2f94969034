import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { childMetadata } from './labels.js';
import type { RuntimePlan } from './plan.js';

/**
 * The embedded store's volume (PVC N-panels), mounted at /var/lib/nexus. Owned by the runtime, so
 * deleting the runtime deletes it — unless retainOnDelete, which leaves the owner reference out.
 */
export function buildPanelsVolume(plan: RuntimePlan): V1PersistentVolumeClaim {
  const { size, storageClassName, retainOnDelete } = plan.spec.store.embedded.volume;
  const claim: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: childMetadata(plan, 'panelsVolume', !retainOnDelete),
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  };
  if (storageClassName) claim.spec!.storageClassName = storageClassName;
  return claim;
}
