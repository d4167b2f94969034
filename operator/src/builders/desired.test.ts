import { plan } from '../testing/fixtures.js';
import { buildDesiredState } from './desired.js';

describe('buildDesiredState', () => {
  it('builds every child and stamps each with the hash of its content', () => {
    const desired = buildDesiredState(plan());
    for (const object of [desired.configMap, desired.deployment, desired.service, desired.hpa, desired.pdb]) {
      expect(object?.metadata?.annotations?.['nexus.dev/applied-hash']).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(desired.deployment.spec?.template.metadata?.annotations?.['nexus.dev/config-hash']).toBe(
      desired.configHash,
    );
  });

  it('is deterministic, and a tuning change moves the config hash and the Deployment hash', () => {
    const a = buildDesiredState(plan());
    expect(buildDesiredState(plan())).toEqual(a);
    const b = buildDesiredState(plan({ runtime: { memoryLimitMB: 64 } }));
    expect(b.configHash).not.toBe(a.configHash);
    const hash = (d: typeof a) => d.deployment.metadata?.annotations?.['nexus.dev/applied-hash'];
    expect(hash(b)).not.toBe(hash(a));
    expect(b.service).toEqual(a.service);
  });

  it('leaves out the HPA and the PDB when they must not exist', () => {
    const desired = buildDesiredState(plan({ suspend: true }));
    expect(desired.hpa).toBeUndefined();
    expect(desired.pdb).toBeUndefined();
  });
});
