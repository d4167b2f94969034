import { DEFAULTS, resolveSpec } from './defaults.js';

describe('resolveSpec', () => {
  it('fills every default into an empty spec', () => {
    const s = resolveSpec({}, 'img:1');
    expect(s.image).toBe('img:1');
    expect(s.replicas).toBe(1);
    expect(s.suspend).toBe(false);
    expect(s.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    expect(s.runtime).toEqual({ ...DEFAULTS.runtime });
    expect(s.runtime.maxInstances).toBeUndefined();
    expect(s.cache).toEqual({ medium: 'Memory', sizeLimit: '128Mi' });
    expect(s.autoscaling).toEqual({
      enabled: true,
      minReplicas: 1,
      maxReplicas: 10,
      targetMemoryUtilizationPercentage: 80,
    });
    expect(s.server).toEqual({ logLevel: 'info', corsOrigins: [], allowedDomains: [] });
    expect(s.probes.startup.failureThreshold).toBe(30);
    expect(s.disruption).toEqual({});
  });

  it('keeps what the user set and defaults the rest of the same object', () => {
    const s = resolveSpec(
      {
        image: 'mine:2',
        resources: { limits: { memory: '2Gi' } },
        runtime: { maxInstances: 7, memoryLimitMB: 64 },
        autoscaling: { targetCPUUtilizationPercentage: 60 },
        probes: { liveness: { periodSeconds: 30 } },
        server: {
          auth: { jwtSecretRef: { name: 's', key: 'k' } },
          extensions: { http: { allowedDomains: ['a.example'] } },
        },
      },
      'img:1',
    );
    expect(s.image).toBe('mine:2');
    expect(s.resources.limits).toEqual({ cpu: '1', memory: '2Gi' });
    expect(s.runtime).toMatchObject({ maxInstances: 7, memoryLimitMB: 64, minInstances: 1 });
    expect(s.autoscaling.targetCPUUtilizationPercentage).toBe(60);
    expect(s.probes.liveness).toEqual({ ...DEFAULTS.probes.liveness, periodSeconds: 30 });
    expect(s.server.jwtSecretRef).toEqual({ name: 's', key: 'k' });
    expect(s.server.allowedDomains).toEqual(['a.example']);
  });

  it('treats an empty image as unset', () => {
    expect(resolveSpec({ image: '' }, 'img:1').image).toBe('img:1');
  });
});
