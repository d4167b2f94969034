import { ownerKey } from './caches.js';

describe('ownerKey', () => {
  it('maps a child to the NexusRuntime that controls it', () => {
    expect(
      ownerKey({
        metadata: {
          namespace: 'ns',
          ownerReferences: [
            {
              apiVersion: 'nexus.dev/v1alpha1',
              kind: 'NexusRuntime',
              name: 'demo',
              uid: 'u',
              controller: true,
            },
          ],
        },
      }),
    ).toBe('ns/demo');
  });

  it('ignores objects another controller owns, such as a StatefulSet volume claim', () => {
    expect(
      ownerKey({
        metadata: {
          namespace: 'ns',
          labels: { 'app.kubernetes.io/instance': 'demo' },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'demo-store', uid: 'u', controller: true },
          ],
        },
      }),
    ).toBeUndefined();
  });

  it('maps a volume kept without an owner reference by its instance label', () => {
    expect(
      ownerKey({ metadata: { namespace: 'ns', labels: { 'app.kubernetes.io/instance': 'demo' } } }),
    ).toBe('ns/demo');
    expect(ownerKey({ metadata: { namespace: 'ns' } })).toBeUndefined();
    expect(ownerKey({ metadata: { labels: { 'app.kubernetes.io/instance': 'demo' } } })).toBeUndefined();
  });
});
