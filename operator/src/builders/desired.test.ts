import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { plan } from '../testing/fixtures.js';
import { KERNEL_ROWS, buildDesiredState, keepAsObserved } from './desired.js';

const keys = (p: Parameters<typeof buildDesiredState>[0]) => Object.keys(buildDesiredState(p).objects);

describe('buildDesiredState', () => {
  it('builds every child of a managed store and stamps the applied ones with their content hash', () => {
    const desired = buildDesiredState(plan());
    expect(Object.keys(desired.objects)).toEqual([
      'configMap',
      'service',
      'deployment',
      'hpa',
      'pdb',
      'networkPolicy',
      'storeSecret',
      'storeConfig',
      'storeService',
      'storePods',
      'storeStatefulSet',
      'storeNetworkPolicy',
    ]);
    for (const [key, object] of Object.entries(desired.objects)) {
      const hash = object.metadata?.annotations?.['nexus.dev/applied-hash'];
      if (key === 'storeSecret') expect(hash).toBeUndefined();
      else expect(hash).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(desired.objects.deployment?.spec?.template.metadata?.annotations?.['nexus.dev/config-hash']).toBe(
      desired.configHash,
    );
  });

  it('is deterministic, and a tuning change moves the config hash and the Deployment hash', () => {
    const a = buildDesiredState(plan());
    expect(buildDesiredState(plan())).toEqual(a);
    const b = buildDesiredState(plan({ runtime: { memoryLimitMB: 64 } }));
    expect(b.configHash).not.toBe(a.configHash);
    const hash = (d: typeof a) => d.objects.deployment?.metadata?.annotations?.['nexus.dev/applied-hash'];
    expect(hash(b)).not.toBe(hash(a));
    expect(b.objects.service).toEqual(a.objects.service);
  });

  it('leaves out the HPA and the PDB when they must not exist', () => {
    const desired = buildDesiredState(plan({ suspend: true }));
    expect(desired.objects.hpa).toBeUndefined();
    expect(desired.objects.pdb).toBeUndefined();
  });

  it('builds no store objects for an external store, and the panels volume instead for an embedded one', () => {
    const external = keys(
      plan({ store: { mode: 'External', external: { urlSecretRef: { name: 'r', key: 'u' } } } }),
    );
    expect(external).toEqual(['configMap', 'service', 'deployment', 'hpa', 'pdb', 'networkPolicy']);
    expect(keys(plan({ store: { mode: 'Embedded' } }))).toEqual([
      'configMap',
      'service',
      'deployment',
      'networkPolicy',
      'panelsVolume',
    ]);
    expect(keys(plan({ networkPolicy: { enabled: false }, store: { mode: 'Embedded' } }))).not.toContain(
      'networkPolicy',
    );
  });
});

describe('keepAsObserved', () => {
  it('replaces rows by what exists, and drops rows that do not exist', () => {
    const desired = buildDesiredState(plan()).objects;
    const volume: V1PersistentVolumeClaim = { metadata: { name: 'demo-panels' } };
    const kept = keepAsObserved(desired, { panelsVolume: volume }, ['panelsVolume', ...KERNEL_ROWS]);
    expect(kept.panelsVolume).toBe(volume);
    expect(kept.deployment).toBeUndefined();
    expect(kept.configMap).toBeUndefined();
    expect(kept.storeStatefulSet).toBe(desired.storeStatefulSet);
  });
});
