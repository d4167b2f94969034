import type { V1Container } from '@kubernetes/client-node';
import { plan } from '../testing/fixtures.js';
import { buildDeployment, ownedReplicas } from './deployment.js';

const kernel = (d: ReturnType<typeof buildDeployment>): V1Container => d.spec!.template.spec!.containers[0]!;

describe('the kernel Deployment', () => {
  it('leaves the replica count to the HPA when autoscaling is on', () => {
    const d = buildDeployment(plan(), 'h1');
    expect(d.spec).not.toHaveProperty('replicas');
    expect(ownedReplicas(plan())).toBeUndefined();
  });

  it('owns the replica count when autoscaling is off, and scales to zero when suspended', () => {
    expect(buildDeployment(plan({ autoscaling: { enabled: false }, replicas: 3 }), 'h').spec?.replicas).toBe(
      3,
    );
    expect(buildDeployment(plan({ suspend: true }), 'h').spec?.replicas).toBe(0);
    expect(
      buildDeployment(plan({ suspend: true, autoscaling: { enabled: false }, replicas: 3 }), 'h').spec
        ?.replicas,
    ).toBe(0);
  });

  it('rolls pods through the config-hash annotation and keeps user pod metadata', () => {
    const d = buildDeployment(
      plan({
        pod: { labels: { team: 'x', 'app.kubernetes.io/instance': 'spoof' }, annotations: { a: 'b' } },
      }),
      'abc123',
    );
    expect(d.spec?.template.metadata?.annotations).toEqual({
      a: 'b',
      'nexus.dev/config-hash': 'abc123',
      'nexus.dev/store-secret-hash': expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(d.spec?.template.metadata?.labels).toMatchObject({
      team: 'x',
      'app.kubernetes.io/instance': 'demo',
    });
    expect(d.spec?.selector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
    });
  });

  it('runs the kernel from the ConfigMap, with ports, probes and resources', () => {
    const c = kernel(buildDeployment(plan({ imagePullPolicy: 'Never' }), 'h'));
    expect(c.image).toBe('localhost/nexus/workspace-kernel:test');
    expect(c.imagePullPolicy).toBe('Never');
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'demo-config' } }]);
    expect(c.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'STORE_URL', valueFrom: { secretKeyRef: { name: 'demo-store', key: 'url' } } },
    ]);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'ws', containerPort: 3001, protocol: 'TCP' },
    ]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http', scheme: 'HTTP' });
    expect(c.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(c.startupProbe).toMatchObject({
      httpGet: { path: '/health' },
      failureThreshold: 30,
      periodSeconds: 2,
    });
    // Node disk: logs 64Mi + /tmp 64Mi (the cache is in memory).
    expect(c.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '128Mi' },
      limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '128Mi' },
    });
  });

  it('is locked down: non-root, read-only root, no escalation, no capabilities, no token', () => {
    const d = buildDeployment(plan(), 'h');
    const pod = d.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(kernel(d).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(d.spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it('mounts the cache emptyDir with the medium and size of spec.cache, and /tmp', () => {
    const inMemory = buildDeployment(plan(), 'h').spec!.template.spec!;
    expect(inMemory.volumes).toEqual([
      { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '128Mi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(kernel(buildDeployment(plan(), 'h')).volumeMounts).toEqual([
      { name: 'cache', mountPath: '/var/cache/nexus' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    const onDisk = buildDeployment(plan({ cache: { medium: 'Disk', sizeLimit: '1Gi' } }), 'h').spec!.template
      .spec!;
    expect(onDisk.volumes?.[0]).toEqual({ name: 'cache', emptyDir: { sizeLimit: '1Gi' } });
  });

  it('asks for the node disk its logs, /tmp and an on-disk cache can take', () => {
    const onDisk = kernel(buildDeployment(plan({ cache: { medium: 'Disk', sizeLimit: '1Gi' } }), 'h'));
    expect(onDisk.resources?.requests?.['ephemeral-storage']).toBe('1152Mi');
    expect(onDisk.resources?.limits?.['ephemeral-storage']).toBe('1152Mi');
  });

  it('passes the JWT secret as an env var from the referenced Secret', () => {
    const c = kernel(
      buildDeployment(plan({ server: { auth: { jwtSecretRef: { name: 'jwt', key: 'secret' } } } }), 'h'),
    );
    expect(c.env).toContainEqual({
      name: 'JWT_SECRET',
      valueFrom: { secretKeyRef: { name: 'jwt', key: 'secret' } },
    });
  });

  it('passes scheduling settings through to the pod', () => {
    const pod = buildDeployment(
      plan({
        imagePullSecrets: [{ name: 'reg' }],
        pod: {
          nodeSelector: { disk: 'ssd' },
          tolerations: [{ key: 'k', operator: 'Exists' }],
          affinity: { nodeAffinity: {} },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' },
          ],
          priorityClassName: 'high',
        },
      }),
      'h',
    ).spec!.template.spec!;
    expect(pod).toMatchObject({
      imagePullSecrets: [{ name: 'reg' }],
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'k', operator: 'Exists' }],
      affinity: { nodeAffinity: {} },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone' }],
      priorityClassName: 'high',
    });
    const bare = buildDeployment(plan(), 'h').spec!.template.spec!;
    for (const field of [
      'imagePullSecrets',
      'nodeSelector',
      'tolerations',
      'affinity',
      'priorityClassName',
    ]) {
      expect(bare).not.toHaveProperty(field);
    }
  });

  it('spreads the kernels softly over nodes unless the spec says otherwise', () => {
    const pod = buildDeployment(plan(), 'h').spec!.template.spec!;
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
        },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
    const off = buildDeployment(plan({ pod: { topologySpreadConstraints: [] } }), 'h').spec!.template.spec!;
    expect(off).not.toHaveProperty('topologySpreadConstraints');
  });

  it('gives the kernels a grace above the longest execution: deadline + 5 s drain + 10 s', () => {
    const pod = (runtime: object) => buildDeployment(plan({ runtime }), 'h').spec!.template.spec!;
    expect(pod({}).terminationGracePeriodSeconds).toBe(45);
    expect(pod({ timeoutMs: 1000, executionDeadlineMs: 60500 }).terminationGracePeriodSeconds).toBe(76);
  });

  it('reads the managed store URL from its Secret, and rolls when the Secret changes', () => {
    const a = buildDeployment(plan(), 'h');
    const other = plan();
    if (other.store.mode !== 'Managed') throw new Error('expected a managed store');
    other.store.credentials = { password: 'new', url: 'redis://:new@demo-store.team-a.svc:6379' };
    const b = buildDeployment(other, 'h');
    const hash = (d: typeof a) => d.spec?.template.metadata?.annotations?.['nexus.dev/store-secret-hash'];
    expect(hash(a)).not.toBe(hash(b));
  });

  it('reads an external store URL from the user Secret and mounts its CA bundle', () => {
    const d = buildDeployment(
      plan({
        store: {
          mode: 'External',
          external: {
            urlSecretRef: { name: 'redis', key: 'url' },
            tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } },
          },
        },
      }),
      'h',
    );
    const c = kernel(d);
    expect(c.env).toContainEqual({
      name: 'STORE_URL',
      valueFrom: { secretKeyRef: { name: 'redis', key: 'url' } },
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'store-ca',
      mountPath: '/etc/nexus/store-ca',
      readOnly: true,
    });
    expect(d.spec!.template.spec!.volumes).toContainEqual({
      name: 'store-ca',
      secret: { secretName: 'ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] },
    });
    expect(d.spec?.template.metadata?.annotations?.['nexus.dev/store-secret-hash']).toBe('content-hash');
  });

  it('runs one kernel with the panels volume and Recreate for an embedded store, without a store URL', () => {
    const d = buildDeployment(plan({ store: { mode: 'Embedded' }, replicas: 3 }), 'h');
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec!.template.spec!.volumes).toContainEqual({
      name: 'panels',
      persistentVolumeClaim: { claimName: 'demo-panels' },
    });
    expect(kernel(d).volumeMounts).toContainEqual({ name: 'panels', mountPath: '/var/lib/nexus' });
    expect(kernel(d).env?.map((e) => e.name)).toEqual(['POD_NAME']);
    expect(d.spec?.template.metadata?.annotations).not.toHaveProperty(['nexus.dev/store-secret-hash']);
  });

  it('imports an embedded volume into a shared store with one kernel that has both', () => {
    const d = buildDeployment(plan({}, 4, 'demo', 'importing'), 'h');
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.strategy?.type).toBe('Recreate');
    expect(d.spec?.template.metadata?.annotations?.['nexus.dev/panels-import']).toBe('demo-panels');
    expect(kernel(d).env?.map((e) => e.name)).toContain('STORE_URL');
    expect(kernel(d).volumeMounts).toContainEqual({ name: 'panels', mountPath: '/var/lib/nexus' });
  });
});
