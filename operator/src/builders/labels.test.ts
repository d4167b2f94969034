import { plan } from '../testing/fixtures.js';
import { childMetadata, ownerReference } from './labels.js';

describe('child metadata', () => {
  it('owner references make the runtime the controller', () => {
    expect(ownerReference(plan())).toMatchObject({
      kind: 'NexusRuntime',
      uid: 'uid-demo',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('takes name and labels from the child table', () => {
    expect(childMetadata(plan(), 'storeStatefulSet')).toMatchObject({
      name: 'demo-store',
      namespace: 'team-a',
      labels: { 'app.kubernetes.io/name': 'nexus-store', 'app.kubernetes.io/component': 'store' },
      ownerReferences: [expect.objectContaining({ uid: 'uid-demo' })],
    });
    expect(childMetadata(plan(), 'configMap').name).toBe('demo-config');
  });

  it('leaves the owner reference out of an object kept after the runtime is deleted', () => {
    expect(childMetadata(plan(), 'panelsVolume', false)).not.toHaveProperty('ownerReferences');
  });
});
