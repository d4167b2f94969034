import { plan, PASSWORD } from '../../testing/fixtures.js';
import { buildStoreConfig, redisConf } from './config.js';
import { buildStoreNetworkPolicy } from './network-policy.js';
import { buildStoreSecret, managedEndpoint, readCredentials, storeCredentials } from './secret.js';
import { buildStoreService } from './service.js';
import { buildStoreStatefulSet } from './statefulset.js';

const storeSelector = { 'app.kubernetes.io/name': 'nexus-store', 'app.kubernetes.io/instance': 'demo' };

describe('the managed store Secret', () => {
  it('holds the password and the URL the kernels read, at the Service address', () => {
    const credentials = storeCredentials('demo', 'team-a', 'pw');
    expect(credentials).toEqual({
      password: 'pw',
      url: 'redis://:pw@demo-store.team-a.svc:6379',
      sentinelUrl: 'redis://:pw@demo-store-sentinel.team-a.svc:26379',
    });
    expect(managedEndpoint('demo', 'team-a')).toBe('demo-store.team-a.svc:6379');
    const secret = buildStoreSecret(plan(), credentials);
    expect(secret.metadata).toMatchObject({
      name: 'demo-store',
      labels: { ...storeSelector, 'app.kubernetes.io/component': 'store' },
      ownerReferences: [expect.objectContaining({ uid: 'uid-demo', controller: true })],
    });
    expect(secret.stringData).toEqual({
      password: 'pw',
      url: credentials.url,
      sentinelUrl: credentials.sentinelUrl,
    });
  });

  it('reads credentials back, and names a missing key', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(
      readCredentials({ metadata: { name: 's' }, data: { password: b64('pw'), url: b64('redis://x') } }),
    ).toEqual({
      password: 'pw',
      url: 'redis://x',
    });
    expect(readCredentials({ metadata: { name: 's' }, data: { url: b64('redis://x') } })).toBe(
      'Secret s has no key "password"',
    );
    expect(readCredentials({ metadata: { name: 's' }, data: { password: b64('pw') } })).toBe(
      'Secret s has no key "url"',
    );
  });
});

describe('the managed store configuration', () => {
  it('fixes what the kernel relies on and sets maxmemory in bytes', () => {
    const lines = redisConf(plan({ store: { managed: { maxmemory: '1Gi' } } })).split('\n');
    for (const line of [
      'appendonly yes',
      'appendfsync everysec',
      'maxmemory-policy noeviction',
      'maxmemory 1073741824',
      'dir /data',
      'port 6379',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(buildStoreConfig(plan()).data?.['redis.conf']).toContain('maxmemory 536870912');
  });
});

describe('the managed store StatefulSet', () => {
  const sts = buildStoreStatefulSet(plan());
  const pod = sts.spec!.template.spec!;
  const redis = pod.containers[0]!;

  it('runs one Redis pod, hardened like the kernels', () => {
    expect(sts.spec).toMatchObject({
      replicas: 1,
      // The headless Service, which gives the pod a DNS name (a live StatefulSet keeps its own).
      serviceName: 'demo-store-pods',
      selector: { matchLabels: storeSelector },
    });
    expect(pod).toMatchObject({
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(redis.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(redis.image).toBe('localhost/nexus/redis:test');
    // Node disk: logs 64Mi + /tmp 16Mi; the data lives on its claim.
    expect(redis.resources).toEqual({
      requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '80Mi' },
      limits: { cpu: '1', memory: '768Mi', 'ephemeral-storage': '80Mi' },
    });
  });

  it('without persistence, bounds the data emptyDir and counts it in the node disk it asks for', () => {
    const ephemeral = buildStoreStatefulSet(
      plan({ store: { managed: { persistence: { enabled: false }, maxmemory: '256Mi' } } }),
    );
    // Three times maxmemory: the append-only file, doubled before a rewrite, and the rewrite beside it.
    expect(ephemeral.spec?.template.spec?.volumes).toContainEqual({
      name: 'data',
      emptyDir: { sizeLimit: '768Mi' },
    });
    const resources = ephemeral.spec?.template.spec?.containers[0]?.resources;
    expect(resources?.requests?.['ephemeral-storage']).toBe('848Mi');
    expect(resources?.limits?.['ephemeral-storage']).toBe('848Mi');
  });

  it('takes a slow Redis out of rotation and restarts only one that does not answer at all', () => {
    const command = (probe: typeof redis.readinessProbe) => probe?.exec?.command?.join(' ');
    // kube-score's pod-probes: liveness and readiness must not be the same probe.
    expect(command(redis.readinessProbe)).not.toBe(command(redis.livenessProbe));
    expect(command(redis.readinessProbe)).toContain('ping | grep -q PONG');
    expect(redis.readinessProbe).toMatchObject({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 });
    // Any answer (PONG, LOADING, BUSY) keeps the container; only no answer restarts it.
    expect(command(redis.livenessProbe)).toContain("ping 2>&1 | grep -qv '^Could not connect'");
    expect(redis.livenessProbe).toMatchObject({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 });
    expect(command(redis.startupProbe)).toBe(command(redis.livenessProbe));
  });

  it('passes the password from the Secret on stdin, never in argv, and probes with redis-cli', () => {
    expect(redis.env).toEqual([
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'demo-store', key: 'password' } } },
      { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'demo-store', key: 'password' } } },
    ]);
    const script = redis.command!.join(' ');
    expect(script).toMatch(/^sh -c exec redis-server - <<EOF/);
    expect(script).toContain('requirepass $REDIS_PASSWORD');
    expect(script).not.toContain(PASSWORD);
    for (const probe of [redis.readinessProbe, redis.livenessProbe, redis.startupProbe]) {
      expect(probe?.exec?.command?.join(' ')).toContain('redis-cli -h 127.0.0.1 -p 6379 ping');
    }
  });

  it('keeps the data on a claim with persistence, on an emptyDir without', () => {
    expect(sts.spec?.volumeClaimTemplates).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'data' }),
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      }),
    ]);
    expect(sts.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    expect(pod.volumes?.map((v) => v.name)).toEqual(['config', 'tmp']);
    const ephemeral = buildStoreStatefulSet(
      plan({ store: { managed: { persistence: { enabled: false } } } }),
    );
    expect(ephemeral.spec).not.toHaveProperty('volumeClaimTemplates');
    expect(ephemeral.spec?.template.spec?.volumes).toContainEqual({
      name: 'data',
      emptyDir: { sizeLimit: '1536Mi' },
    });
    const kept = buildStoreStatefulSet(
      plan({
        store: { managed: { persistence: { retainOnDelete: true, storageClassName: 'fast', size: '5Gi' } } },
      }),
    );
    expect(kept.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted).toBe('Retain');
    expect(kept.spec?.volumeClaimTemplates?.[0]?.spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '5Gi' } },
    });
  });

  it('restarts when its configuration or password changes', () => {
    const hashes = (p: ReturnType<typeof plan>) =>
      buildStoreStatefulSet(p).spec?.template.metadata?.annotations;
    const base = hashes(plan());
    expect(hashes(plan({ store: { managed: { maxmemory: '256Mi' } } }))?.['nexus.dev/config-hash']).not.toBe(
      base?.['nexus.dev/config-hash'],
    );
    const rotated = plan();
    if (rotated.store.mode === 'Managed')
      rotated.store.credentials = storeCredentials('demo', 'team-a', 'other');
    expect(hashes(rotated)?.['nexus.dev/store-secret-hash']).not.toBe(base?.['nexus.dev/store-secret-hash']);
  });

  it('is only built for a managed store', () => {
    expect(() => buildStoreStatefulSet(plan({ store: { mode: 'Embedded' } }))).toThrow(/managed store/);
  });
});

describe('the managed store Service and NetworkPolicy', () => {
  it('serves port 6379 to the kernels of this runtime only', () => {
    expect(buildStoreService(plan()).spec).toEqual({
      type: 'ClusterIP',
      // The first pod: one Redis' only one, and the primary while a store switches to replicas.
      selector: { ...storeSelector, 'statefulset.kubernetes.io/pod-name': 'demo-store-0' },
      ports: [{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }],
    });
    expect(buildStoreNetworkPolicy(plan()).spec).toEqual({
      podSelector: { matchLabels: storeSelector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          _from: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'workspace-kernel',
                  'app.kubernetes.io/instance': 'demo',
                },
              },
            },
          ],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
      ],
    });
  });
});
