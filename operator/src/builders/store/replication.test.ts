import { PASSWORD, plan } from '../../testing/fixtures.js';
import { buildConfigData } from '../configmap.js';
import { buildDesiredState } from '../desired.js';
import { buildDeployment } from '../deployment.js';
import { buildKernelNetworkPolicy } from '../network-policy.js';
import { buildStoreConfig, redisConf } from './config.js';
import { buildStoreNetworkPolicy } from './network-policy.js';
import { buildStorePdb } from './pdb.js';
import { podHosts, sentinelAddresses, sentinelQuorum } from './replication.js';
import { buildStorePodsService, buildStoreSentinelService } from './service.js';
import { buildStoreStatefulSet } from './statefulset.js';

const storeSelector = { 'app.kubernetes.io/name': 'nexus-store', 'app.kubernetes.io/instance': 'demo' };
const kernelSelector = { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' };
const replicated = () => plan({ store: { managed: { replicas: 3 } } });

describe('a replicated managed store', () => {
  const sts = buildStoreStatefulSet(replicated());
  const pod = sts.spec!.template.spec!;
  const [redis, sentinel] = pod.containers;
  const script = (c: typeof redis) => c!.command!.join(' ');

  it('names each pod by its stable DNS name under the headless Service', () => {
    expect(podHosts(replicated())).toEqual([
      'demo-store-0.demo-store-pods.team-a.svc',
      'demo-store-1.demo-store-pods.team-a.svc',
      'demo-store-2.demo-store-pods.team-a.svc',
    ]);
    expect(sentinelQuorum(3)).toBe(2);
    expect(sentinelQuorum(5)).toBe(3);
  });

  it('runs N pods, each a Redis and a Sentinel, spread over nodes where it can', () => {
    expect(sts.spec).toMatchObject({ replicas: 3, serviceName: 'demo-store-pods' });
    expect(pod.containers.map((c) => c.name)).toEqual(['redis', 'sentinel']);
    expect(sentinel!.image).toBe(redis!.image);
    // Preferred only: a one-node cluster still schedules all three.
    expect(pod.affinity?.podAntiAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: storeSelector },
          },
        },
      ],
    });
    expect(pod.affinity?.podAntiAffinity).not.toHaveProperty(
      'requiredDuringSchedulingIgnoredDuringExecution',
    );
    expect(pod.topologySpreadConstraints?.map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
      ['kubernetes.io/hostname', 'ScheduleAnyway'],
      ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
    ]);
    // Each pod keeps its data on its own claim, as one Redis does.
    expect(sts.spec?.volumeClaimTemplates?.map((c) => c.metadata?.name)).toEqual(['data']);
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    }
  });

  it('starts each Redis as a replica of the primary the Sentinels name, else of the first pod, announcing its DNS name', () => {
    const text = script(redis);
    expect(text).toContain('sentinel get-master-addr-by-name nexus');
    // No Sentinel answers: the primary this pod's Sentinel last monitored, else the first pod.
    expect(text).toContain("sed -n 's/^sentinel monitor nexus \\([^ ]*\\) .*/\\1/p' /sentinel/sentinel.conf");
    expect(text).toContain('*) PRIMARY="demo-store-0.demo-store-pods.team-a.svc";; esac');
    expect(redis!.volumeMounts).toContainEqual({ name: 'sentinel', mountPath: '/sentinel', readOnly: true });
    expect(text).toContain('ME="$POD_NAME.demo-store-pods.team-a.svc"');
    expect(text).toContain('REPLICAOF="replicaof $PRIMARY 6379"');
    expect(text).toContain('masterauth $REDIS_PASSWORD');
    expect(text).toContain('replica-announce-ip $ME');
    expect(text).not.toContain(PASSWORD);
    expect(redis!.env).toContainEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    // Ready: the primary, or a replica whose link to it is up.
    const ready = redis!.readinessProbe?.exec?.command?.join(' ');
    expect(ready).toContain("grep -q '^master_link_status:up'");
    // A primary loading its file answers INFO but not PING: not ready.
    expect(ready).toContain('ping | grep -q PONG && ');
  });

  it('writes the Sentinel configuration into an emptyDir and runs redis-server --sentinel', () => {
    const text = script(sentinel);
    expect(text).toContain('cp /etc/nexus-store/sentinel.conf /sentinel/sentinel.conf');
    expect(text).toContain('sentinel monitor nexus $PRIMARY 6379 2');
    expect(text).toContain('sentinel auth-pass nexus $REDIS_PASSWORD');
    expect(text).toContain('requirepass $REDIS_PASSWORD');
    expect(text).toContain('exec redis-server /sentinel/sentinel.conf --sentinel');
    // Sentinel refuses a monitor line whose host does not resolve yet: it waits for the name.
    expect(text).toContain('until getent hosts "$PRIMARY"');
    expect(text).not.toContain(PASSWORD);
    expect(sentinel!.volumeMounts).toContainEqual({ name: 'sentinel', mountPath: '/sentinel' });
    expect(pod.volumes).toContainEqual({ name: 'sentinel', emptyDir: { sizeLimit: '1Mi' } });
    expect(sentinel!.ports).toEqual([{ name: 'sentinel', containerPort: 26379, protocol: 'TCP' }]);
    const data = buildStoreConfig(replicated()).data!;
    expect(data['sentinel.conf']).toContain('sentinel resolve-hostnames yes');
    expect(data['sentinel.conf']).toContain('sentinel announce-hostnames yes');
    expect(data['sentinel-master.conf']).toContain('sentinel down-after-milliseconds nexus 5000');
    const faster = buildStoreConfig(
      plan({ store: { managed: { replicas: 3, sentinel: { downAfterMilliseconds: 2000 } } } }),
    ).data!;
    expect(faster['sentinel-master.conf']).toContain('sentinel down-after-milliseconds nexus 2000');
  });

  it('makes the primary refuse writes while fewer replicas than the acknowledgement asks are connected', () => {
    expect(redisConf(replicated())).toContain('min-replicas-to-write 1');
    expect(redisConf(replicated())).toContain('min-replicas-max-lag 10');
    const none = redisConf(plan({ store: { managed: { replicas: 3, durability: { ackReplicas: 0 } } } }));
    expect(none).not.toContain('min-replicas-to-write');
    expect(redisConf(plan())).not.toContain('min-replicas-to-write');
  });

  it('syncs the append-only file as the durability policy says, for one Redis or many', () => {
    expect(redisConf(plan())).toContain('appendfsync everysec');
    expect(redisConf(plan({ store: { managed: { durability: { appendfsync: 'always' } } } }))).toContain(
      'appendfsync always',
    );
  });

  it('has a headless Service that lists pods before they are ready, a Sentinel Service and a budget of one', () => {
    expect(buildStorePodsService(replicated()).spec).toEqual({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: storeSelector,
      ports: [
        { name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' },
        { name: 'sentinel', port: 26379, targetPort: 'sentinel', protocol: 'TCP' },
      ],
    });
    expect(buildStoreSentinelService(replicated())?.spec?.ports).toEqual([
      { name: 'sentinel', port: 26379, targetPort: 'sentinel', protocol: 'TCP' },
    ]);
    expect(buildStorePdb(replicated())?.spec).toEqual({
      selector: { matchLabels: storeSelector },
      maxUnavailable: 1,
    });
    expect(buildStoreSentinelService(plan())).toBeUndefined();
    expect(buildStorePdb(plan())).toBeUndefined();
    expect(Object.keys(buildDesiredState(replicated()).objects)).toEqual(
      expect.arrayContaining(['storePods', 'storeSentinelService', 'storePdb']),
    );
  });

  it('lets kernels reach Redis and the Sentinels, the pods one another and DNS, and the operator the Sentinels', () => {
    const spec = buildStoreNetworkPolicy(replicated()).spec!;
    const tcp = (port: number) => ({ protocol: 'TCP', port });
    expect(spec.ingress).toEqual([
      {
        _from: [
          { podSelector: { matchLabels: kernelSelector } },
          { podSelector: { matchLabels: storeSelector } },
        ],
        ports: [tcp(6379), tcp(26379)],
      },
      {
        _from: [
          {
            namespaceSelector: {},
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nexus-operator' } },
          },
        ],
        ports: [tcp(26379)],
      },
    ]);
    expect(spec.egress).toEqual([
      { ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] },
      { to: [{ podSelector: { matchLabels: storeSelector } }], ports: [tcp(6379), tcp(26379)] },
    ]);
    expect(buildKernelNetworkPolicy(replicated())?.spec?.egress).toContainEqual({
      to: [{ podSelector: { matchLabels: storeSelector } }],
      ports: [tcp(6379), tcp(26379)],
    });
  });

  it('configures the kernels to start from the Sentinels and wait for a replica', () => {
    const data = buildConfigData(replicated());
    expect(data).toMatchObject({
      STORE_TOPOLOGY: 'sentinel',
      STORE_SENTINELS: sentinelAddresses(replicated()).join(','),
      STORE_SENTINEL_MASTER: 'nexus',
      STORE_ACK_REPLICAS: '1',
      STORE_ACK_TIMEOUT_MS: '2000',
    });
    expect(data.STORE_SENTINELS).toBe(
      'demo-store-0.demo-store-pods.team-a.svc:26379,demo-store-1.demo-store-pods.team-a.svc:26379,demo-store-2.demo-store-pods.team-a.svc:26379',
    );
    const env = buildDeployment(replicated(), 'h').spec!.template.spec!.containers[0]!.env;
    expect(env).toContainEqual({
      name: 'STORE_URL',
      valueFrom: { secretKeyRef: { name: 'demo-store', key: 'sentinelUrl' } },
    });
    // One Redis: the variables as they were, so an upgrade rolls no kernel.
    const single = buildConfigData(plan());
    expect(single.STORE_TOPOLOGY).toBe('standalone');
    for (const name of [
      'STORE_SENTINELS',
      'STORE_SENTINEL_MASTER',
      'STORE_ACK_REPLICAS',
      'STORE_ACK_TIMEOUT_MS',
    ]) {
      expect(single).not.toHaveProperty(name);
    }
  });

  it('leaves one Redis as it was: one container, its config hash over its one file', () => {
    const single = buildStoreStatefulSet(plan()).spec!.template.spec!;
    expect(single.containers.map((c) => c.name)).toEqual(['redis']);
    expect(single).not.toHaveProperty('affinity');
    expect(single.containers[0]!.env?.map((e) => e.name)).toEqual(['REDIS_PASSWORD', 'REDISCLI_AUTH']);
    expect(buildStoreConfig(plan()).data).toEqual({ 'redis.conf': redisConf(plan()) });
  });
});
