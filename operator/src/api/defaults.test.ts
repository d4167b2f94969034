import { DEFAULTS, resolveSpec } from './defaults.js';

describe('resolveSpec', () => {
  it('fills every default into an empty spec', () => {
    const s = resolveSpec({}, { kernel: 'img:1', store: 'redis:1' });
    expect(s.image).toBe('img:1');
    expect(s.replicas).toBe(1);
    expect(s.suspend).toBe(false);
    expect(s.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    expect(s.runtime).toEqual({ ...DEFAULTS.runtime });
    expect(s.runtime.executionDeadlineMs).toBe(30000);
    expect(s.runtime.maxInstances).toBeUndefined();
    expect(s.cache).toEqual({ medium: 'Memory', sizeLimit: '128Mi' });
    expect(s.autoscaling).toEqual({
      enabled: true,
      minReplicas: 1,
      maxReplicas: 10,
      targetMemoryUtilizationPercentage: 80,
      targetCPUUtilizationPercentage: 80,
    });
    expect(s.server).toEqual({
      logLevel: 'info',
      maxBodySize: '1Mi',
      corsOrigins: [],
      allowedHosts: [],
      allowedDomains: [],
    });
    expect(s.probes.startup.failureThreshold).toBe(30);
    expect(s.disruption).toEqual({});
    expect(s.store).toEqual({
      mode: 'Managed',
      history: 256,
      historySize: '1Mi',
      revisions: 5,
      logRing: { lines: 200, size: '256Ki' },
      idempotency: { keys: 256, resultSize: '1Ki', retentionSeconds: 3600 },
      keyPrefix: 'nexus:',
      managed: {
        image: 'redis:1',
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '768Mi' } },
        persistence: { enabled: true, size: '1Gi', retainOnDelete: false },
        maxmemory: '512Mi',
        replicas: 1,
        durability: { appendfsync: 'everysec', ackReplicas: 0, ackTimeoutMs: 2000 },
        sentinel: { downAfterMilliseconds: 5000 },
      },
      external: { topology: 'standalone', sentinels: [], durability: { ackReplicas: 0, ackTimeoutMs: 2000 } },
      embedded: { volume: { size: '1Gi', retainOnDelete: false } },
    });
    expect(s.networkPolicy).toEqual({ enabled: true, ingressFrom: [], egressCIDRs: [] });
  });

  it('stretches the execution deadline to a longer handler timeout when it is unset', () => {
    const images = { kernel: 'img:1', store: 'redis:1' };
    expect(resolveSpec({ runtime: { timeoutMs: 60000 } }, images).runtime.executionDeadlineMs).toBe(60000);
    expect(
      resolveSpec({ runtime: { timeoutMs: 1000, executionDeadlineMs: 2000 } }, images).runtime
        .executionDeadlineMs,
    ).toBe(2000);
  });

  it('resolves an external store and an embedded volume, and the spec image of the store', () => {
    const s = resolveSpec(
      {
        store: {
          mode: 'External',
          maxPanels: 50,
          managed: { image: 'valkey:8', persistence: { storageClassName: 'fast' } },
          external: {
            urlSecretRef: { name: 'r', key: 'u' },
            topology: 'cluster',
            tls: { caSecretRef: { name: 'ca', key: 'c' } },
          },
          embedded: { volume: { size: '5Gi', retainOnDelete: true } },
        },
      },
      { kernel: 'img:1', store: 'redis:1' },
    );
    expect(s.store.mode).toBe('External');
    expect(s.store.maxPanels).toBe(50);
    expect(s.store.managed.image).toBe('valkey:8');
    expect(s.store.managed.persistence).toEqual({
      enabled: true,
      size: '1Gi',
      storageClassName: 'fast',
      retainOnDelete: false,
    });
    expect(s.store.external).toEqual({
      urlSecretRef: { name: 'r', key: 'u' },
      topology: 'cluster',
      sentinels: [],
      durability: { ackReplicas: 0, ackTimeoutMs: 2000 },
      caSecretRef: { name: 'ca', key: 'c' },
    });
    expect(s.store.embedded.volume).toEqual({ size: '5Gi', retainOnDelete: true });
  });

  it("resolves an external Sentinel store: its Sentinels, master name, and the kernel's acknowledgement for it", () => {
    const images = { kernel: 'img:1', store: 'redis:1' };
    const sentinel = (external: object) =>
      resolveSpec(
        {
          store: {
            mode: 'External',
            external: { urlSecretRef: { name: 'r', key: 'u' }, topology: 'sentinel', ...external },
          },
        },
        images,
      ).store.external;
    expect(sentinel({})).toEqual({
      urlSecretRef: { name: 'r', key: 'u' },
      topology: 'sentinel',
      sentinels: [],
      durability: { ackReplicas: 1, ackTimeoutMs: 2000 },
    });
    expect(
      sentinel({
        sentinels: ['s2:26379'],
        masterName: 'panels',
        durability: { ackReplicas: 0, ackTimeoutMs: 90 },
      }),
    ).toMatchObject({
      sentinels: ['s2:26379'],
      masterName: 'panels',
      durability: { ackReplicas: 0, ackTimeoutMs: 90 },
    });
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
      { kernel: 'img:1', store: 'redis:1' },
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
    expect(resolveSpec({ image: '' }, { kernel: 'img:1', store: 'redis:1' }).image).toBe('img:1');
  });

  it('acknowledges a commit once one replica holds it when the store is replicated, unless told otherwise', () => {
    const images = { kernel: 'k:1', store: 'redis:1' };
    const durability = (managed: object) =>
      resolveSpec({ store: { managed } }, images).store.managed.durability.ackReplicas;
    expect(durability({ replicas: 3 })).toBe(1);
    expect(durability({ replicas: 5, durability: { ackReplicas: 2 } })).toBe(2);
    expect(durability({ replicas: 3, durability: { ackReplicas: 0 } })).toBe(0);
    expect(durability({})).toBe(0);
  });
});
