import { plan } from '../testing/fixtures.js';
import { buildPdb, maxPossibleReplicas } from './pdb.js';

describe('the PodDisruptionBudget', () => {
  it('exists when more than one replica can run, with maxUnavailable 1 by default', () => {
    const pdb = buildPdb(plan());
    expect(pdb?.apiVersion).toBe('policy/v1');
    expect(pdb?.spec).toEqual({
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
      },
      maxUnavailable: 1,
    });
  });

  it('uses minAvailable or maxUnavailable as given', () => {
    expect(buildPdb(plan({ disruption: { minAvailable: '50%' } }))?.spec).toMatchObject({
      minAvailable: '50%',
    });
    expect(buildPdb(plan({ disruption: { minAvailable: '50%' } }))?.spec).not.toHaveProperty(
      'maxUnavailable',
    );
    expect(buildPdb(plan({ disruption: { maxUnavailable: 2 } }))?.spec).toMatchObject({ maxUnavailable: 2 });
  });

  it('does not exist when at most one replica can run', () => {
    expect(buildPdb(plan({ autoscaling: { enabled: false }, replicas: 1 }))).toBeUndefined();
    expect(buildPdb(plan({ autoscaling: { maxReplicas: 1 } }))).toBeUndefined();
    expect(buildPdb(plan({ suspend: true }))).toBeUndefined();
    expect(buildPdb(plan({ autoscaling: { enabled: false }, replicas: 2 }))).toBeDefined();
  });

  it('counts the HPA maximum when autoscaling, the replica count otherwise', () => {
    expect(maxPossibleReplicas(plan({ autoscaling: { maxReplicas: 7 } }))).toBe(7);
    expect(maxPossibleReplicas(plan({ autoscaling: { enabled: false }, replicas: 3 }))).toBe(3);
    expect(maxPossibleReplicas(plan({ suspend: true }))).toBe(0);
  });
});
