import { VARIABLE_NAMES } from '@nexus/kernel/config-table';
import { plan } from '../testing/fixtures.js';
import { buildConfigData, buildConfigMap, configHash } from './configmap.js';

describe('the kernel ConfigMap', () => {
  it('writes only variables the kernel reads, each with the value the spec asks for', () => {
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
            allowedHosts: ['nexus.example.com', '*.apps.example.org'],
            extensions: { http: { allowedDomains: ['api.example.com'] } },
          },
        },
        12,
      ),
    );
    // The kernel's own table decides the names (contract.test.ts runs its parser over them).
    expect(Object.keys(data).filter((name) => !(VARIABLE_NAMES as readonly string[]).includes(name))).toEqual(
      [],
    );
    expect(data).toMatchObject({
      MEMORY_LIMIT_MB: '64',
      MAX_INSTANCES: '12',
      MIN_INSTANCES: '2',
      TIMEOUT_MS: '3000',
      MAX_HOST_CALLS: '50',
      MAX_STATE_MUTATIONS: '40',
      MAX_EVENTS: '30',
      EXECUTION_DEADLINE_MS: '30000',
      SHUTDOWN_GRACE_MS: '35000',
      MAX_STATE_BYTES: String(1024 * 1024),
      MAX_PANELS: '512',
      PANEL_CACHE_MAX_BYTES: String(64 * 1024 * 1024),
      STORE_HISTORY: '256',
      STORE_TOPOLOGY: 'standalone',
      STORE_KEY_PREFIX: 'nexus:',
      LOG_LEVEL: 'debug',
      HTTP_PORT: '3000',
      WS_PORT: '3001',
      HOST: '0.0.0.0',
      CACHE_DIR: '/var/cache/nexus',
      CACHE_MAX_BYTES: String(128 * 1024 * 1024),
      CORS_ORIGINS: 'https://a.example,https://b.example',
      ALLOWED_HOSTS: 'nexus.example.com,*.apps.example.org',
      SERVICE_NAME: 'demo',
      SERVICE_NAMESPACE: 'team-a',
      HTTP_ALLOWED_DOMAINS: 'api.example.com',
      NODE_ENV: 'production',
    });
  });

  it("names the runtime's Service, so the kernels answer to its DNS names, and no extra host by default", () => {
    const data = buildConfigData(plan({}, 4, 'shop'));
    expect(data).toMatchObject({ SERVICE_NAME: 'shop', SERVICE_NAMESPACE: 'team-a', ALLOWED_HOSTS: '' });
  });

  it('never carries the store URL: it holds the password and comes from a Secret', () => {
    const data = buildConfigData(plan());
    expect(Object.keys(data)).not.toContain('STORE_URL');
    expect(JSON.stringify(data)).not.toContain('p4ssw0rd');
  });

  it('derives the shutdown grace from the execution deadline', () => {
    const data = buildConfigData(plan({ runtime: { timeoutMs: 1000, executionDeadlineMs: 12000 } }));
    expect(data).toMatchObject({ EXECUTION_DEADLINE_MS: '12000', SHUTDOWN_GRACE_MS: '17000' });
  });

  it('points an embedded store, and an import, at the panels volume', () => {
    const embedded = buildConfigData(plan({ store: { mode: 'Embedded' } }));
    expect(embedded.PERSIST_DIR).toBe('/var/lib/nexus/panels');
    expect(embedded).not.toHaveProperty('STORE_TOPOLOGY');
    expect(embedded).not.toHaveProperty('STORE_KEY_PREFIX');
    expect(buildConfigData(plan({}, 4, 'demo', 'importing')).PERSIST_DIR).toBe('/var/lib/nexus/panels');
    expect(buildConfigData(plan())).not.toHaveProperty('PERSIST_DIR');
  });

  it('configures an external store: topology, key prefix, CA bundle', () => {
    const data = buildConfigData(
      plan({
        store: {
          mode: 'External',
          keyPrefix: 'team-a:',
          history: 0,
          external: {
            urlSecretRef: { name: 'r', key: 'url' },
            topology: 'cluster',
            tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } },
          },
        },
      }),
    );
    expect(data).toMatchObject({
      STORE_TOPOLOGY: 'cluster',
      STORE_KEY_PREFIX: 'team-a:',
      STORE_HISTORY: '0',
      STORE_TLS_CA_FILE: '/etc/nexus/store-ca/ca.crt',
      MAX_PANELS: '512',
    });
  });

  it("configures an external Sentinel store: the other Sentinels, the master's name, the acknowledgement", () => {
    const sentinel = (external: object) =>
      buildConfigData(
        plan({
          store: {
            mode: 'External',
            external: { urlSecretRef: { name: 'r', key: 'url' }, topology: 'sentinel', ...external },
          },
        }),
      );
    expect(
      sentinel({
        sentinels: ['s2.internal:26379', '[fd00::3]:26379'],
        masterName: 'panels',
        durability: { ackReplicas: 2, ackTimeoutMs: 500 },
      }),
    ).toMatchObject({
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINELS: 's2.internal:26379,[fd00::3]:26379',
      STORE_SENTINEL_MASTER: 'panels',
      STORE_ACK_REPLICAS: '2',
      STORE_ACK_TIMEOUT_MS: '500',
    });
    // Only the URL's Sentinel; the kernel's defaults written out.
    const defaults = sentinel({});
    expect(defaults).not.toHaveProperty('STORE_SENTINELS');
    expect(defaults).toMatchObject({
      STORE_SENTINEL_MASTER: 'nexus',
      STORE_ACK_REPLICAS: '1',
      STORE_ACK_TIMEOUT_MS: '2000',
    });
  });

  it('writes an external standalone or Cluster store acknowledgement only when it waits for replicas', () => {
    const external = (extra: object) =>
      buildConfigData(
        plan({
          store: { mode: 'External', external: { urlSecretRef: { name: 'r', key: 'url' }, ...extra } },
        }),
      );
    const unchanged = external({});
    for (const name of [
      'STORE_SENTINELS',
      'STORE_SENTINEL_MASTER',
      'STORE_ACK_REPLICAS',
      'STORE_ACK_TIMEOUT_MS',
    ]) {
      expect(unchanged).not.toHaveProperty(name);
    }
    expect(
      external({ topology: 'cluster', durability: { ackReplicas: 1, ackTimeoutMs: 300 } }),
    ).toMatchObject({
      STORE_TOPOLOGY: 'cluster',
      STORE_ACK_REPLICAS: '1',
      STORE_ACK_TIMEOUT_MS: '300',
    });
  });

  it('writes what a panel keeps in the store: history bytes, revisions, the log ring and the body limit', () => {
    expect(buildConfigData(plan())).toMatchObject({
      STORE_HISTORY_BYTES: String(1024 * 1024),
      PANEL_REVISIONS: '5',
      PANEL_LOG_LINES: '200',
      PANEL_LOG_BYTES: String(256 * 1024),
      BODY_LIMIT: String(1024 * 1024),
    });
    const data = buildConfigData(
      plan({
        server: { maxBodySize: '256Ki' },
        store: { historySize: '0', revisions: 3, logRing: { lines: 0, size: '64Ki' } },
      }),
    );
    expect(data).toMatchObject({
      STORE_HISTORY_BYTES: '0',
      PANEL_REVISIONS: '3',
      PANEL_LOG_LINES: '0',
      PANEL_LOG_BYTES: String(64 * 1024),
      BODY_LIMIT: String(256 * 1024),
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
