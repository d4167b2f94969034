import { buildStatus, runningImage, sameStatus } from './status.js';

describe('status', () => {
  const input = {
    name: 'demo',
    namespace: 'ns',
    generation: 4,
    conditions: [],
    configHash: 'abc',
    image: 'img',
    deployment: {
      spec: { selector: {}, template: { spec: { containers: [{ name: 'kernel', image: 'img:old' }] } } },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2 },
    },
  };

  it('copies replica counts from the Deployment and publishes selector and endpoints', () => {
    expect(buildStatus(input)).toEqual({
      observedGeneration: 4,
      conditions: [],
      replicas: 3,
      readyReplicas: 2,
      updatedReplicas: 1,
      availableReplicas: 2,
      selector: 'app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=demo',
      endpoints: { http: 'http://demo.ns.svc:3000', ws: 'ws://demo.ns.svc:3001' },
      configHash: 'abc',
      image: 'img',
    });
  });

  it('compares regardless of key order', () => {
    const a = buildStatus(input);
    const reversed = Object.fromEntries(Object.entries(a).reverse());
    expect(sameStatus(reversed, a)).toBe(true);
    expect(sameStatus({ ...a, readyReplicas: 3 }, a)).toBe(false);
    expect(sameStatus(undefined, a)).toBe(false);
  });

  it('reads the image the Deployment runs', () => {
    expect(runningImage(input.deployment)).toBe('img:old');
    expect(runningImage(undefined)).toBeUndefined();
  });
});
