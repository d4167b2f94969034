import { plan } from '../testing/fixtures.js';
import { buildConfigData, buildConfigMap, configHash } from './configmap.js';

describe('the kernel ConfigMap', () => {
  it('carries every variable of the kernel environment', () => {
    const data = buildConfigData(
      plan(
        {
          runtime: {
            memoryLimitMB: 64,
            minInstances: 2,
            timeoutMs: 3000,
            maxHostCalls: 50,
            maxStateMutations: 40,
            maxEvents: 30,
          },
          server: {
            logLevel: 'debug',
            corsOrigins: ['https://a.example', 'https://b.example'],
            extensions: { http: { allowedDomains: ['api.example.com'] } },
          },
        },
        12,
      ),
    );
    expect(data).toEqual({
      MEMORY_LIMIT_MB: '64',
      MAX_INSTANCES: '12',
      MIN_INSTANCES: '2',
      TIMEOUT_MS: '3000',
      MAX_HOST_CALLS: '50',
      MAX_STATE_MUTATIONS: '40',
      MAX_EVENTS: '30',
      LOG_LEVEL: 'debug',
      HTTP_PORT: '3000',
      WS_PORT: '3001',
      HOST: '0.0.0.0',
      CACHE_DIR: '/var/cache/nexus',
      CACHE_MAX_BYTES: String(128 * 1024 * 1024),
      CORS_ORIGINS: 'https://a.example,https://b.example',
      HTTP_ALLOWED_DOMAINS: 'api.example.com',
      NODE_ENV: 'production',
    });
  });

  it('never asks for more warm instances than the pool holds', () => {
    expect(buildConfigData(plan({ runtime: { minInstances: 9 } }, 4)).MIN_INSTANCES).toBe('4');
  });

  it('is named N-config, labelled and owned by the runtime', () => {
    const cm = buildConfigMap(plan());
    expect(cm.metadata?.name).toBe('demo-config');
    expect(cm.metadata?.namespace).toBe('team-a');
    expect(cm.metadata?.labels).toEqual({
      'app.kubernetes.io/name': 'workspace-kernel',
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/managed-by': 'nexus-operator',
    });
    expect(cm.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'nexus.dev/v1alpha1',
        kind: 'NexusRuntime',
        name: 'demo',
        uid: 'uid-demo',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});

describe('configHash', () => {
  it('is stable across key order and changes with any value', () => {
    const data = buildConfigData(plan());
    const reordered = Object.fromEntries(Object.entries(data).reverse());
    expect(configHash(reordered)).toBe(configHash(data));
    expect(configHash({ ...data, MEMORY_LIMIT_MB: '64' })).not.toBe(configHash(data));
    expect(configHash(data)).toMatch(/^[0-9a-f]{16}$/);
  });
});
