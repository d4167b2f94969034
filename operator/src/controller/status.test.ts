import { buildStatus, runningImage, sameStatus } from './status.js';

describe('status', () => {
  const input = {
    name: 'demo',
    namespace: 'ns',
    generation: 4,
    conditions: [],
    configHash: 'abc',
    image: 'img',
    store: { mode: 'Managed' as const, endpoint: 'demo-store.ns.svc:6379', secretName: 'demo-store' },
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
      desiredReplicas: 1,
      readyReplicas: 2,
      updatedReplicas: 1,
      availableReplicas: 2,
      selector: 'app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=demo',
      endpoints: { http: 'http://demo.ns.svc:3000', ws: 'ws://demo.ns.svc:3001' },
      configHash: 'abc',
      image: 'img',
      store: { mode: 'Managed', endpoint: 'demo-store.ns.svc:6379', secretName: 'demo-store' },
    });
  });

  it('reports what the Deployment is asked for as desired, and 0 without one', () => {
    const scaled = {
      ...input,
      deployment: { ...input.deployment, spec: { ...input.deployment.spec, replicas: 4 } },
    };
    expect(buildStatus(scaled).desiredReplicas).toBe(4);
    expect(buildStatus({ ...input, deployment: undefined }).desiredReplicas).toBe(0);
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
