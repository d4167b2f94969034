import { CHILDREN, CHILD_KEYS, CHILD_KINDS, childName } from './children.js';

describe('the child table', () => {
  it('names every child after its runtime', () => {
    expect(Object.fromEntries(CHILD_KEYS.map((key) => [key, childName(key, 'demo')]))).toEqual({
      configMap: 'demo-config',
      service: 'demo',
      deployment: 'demo',
      hpa: 'demo',
      pdb: 'demo',
      networkPolicy: 'demo',
      panelsVolume: 'demo-panels',
      storeSecret: 'demo-store',
      storePods: 'demo-store-pods',
      storeSentinelService: 'demo-store-sentinel',
      storePdb: 'demo-store',
      storeConfig: 'demo-store',
      storeService: 'demo-store',
      storeStatefulSet: 'demo-store',
      storeNetworkPolicy: 'demo-store',
    });
  });

  it('gives every optional row the reason it is deleted for, and required rows none', () => {
    for (const row of Object.values(CHILDREN)) {
      if (row.required) expect(row).not.toHaveProperty('removedWhen');
      else expect(row.removedWhen).toMatch(/\w+ \w+/);
    }
  });

  it('never gives two rows of one kind the same name', () => {
    const ids = Object.values(CHILDREN).map((row) => `${row.kind}/${row.name('x')}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists each kind once, for one informer each', () => {
    expect(CHILD_KINDS.map((k) => k.kind)).toEqual([
      'ConfigMap',
      'Service',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'Secret',
      'StatefulSet',
    ]);
  });
});
