// The reconciler and a replicated managed store: what the Sentinels say reaches StoreReady and
// status.store, a store they cannot be asked about is judged by its pods, the status follows a
// failover, and a StatefulSet that cannot give its pods names is not switched.
import type { V1ConfigMap, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import type { StoreRoles } from '../policies/store-roles.js';
import { PASSWORD } from '../testing/fixtures.js';
import { KEY, NS, setup } from '../testing/reconciler-setup.js';
import { STORE_ROLES_RECHECK_MS, type RoleReader, type RoleTarget } from './store-roles.js';

const REPLICATED = { store: { managed: { replicas: 3 } } };

/** Sentinels that answer what the test says, and remember who asked. */
class FakeSentinels implements RoleReader {
  answer: StoreRoles | string = {
    primary: 'demo-store-0',
    primaryDown: false,
    replicas: 2,
    replicasInSync: 2,
  };
  readonly asked: RoleTarget[] = [];
  read(target: RoleTarget): Promise<StoreRoles | string> {
    this.asked.push(target);
    return Promise.resolve(this.answer);
  }
}

describe('a replicated managed store', () => {
  it('asks the Sentinels once a store pod is ready, and publishes the primary and the replicas in sync', async () => {
    const sentinels = new FakeSentinels();
    const { cluster, reconciler, settle, condition } = setup(REPLICATED, sentinels);
    await reconciler.reconcile(KEY);
    // No pod is ready yet: nothing to ask.
    expect(sentinels.asked).toEqual([]);
    expect(cluster.getRuntime(NS, 'demo').status?.store).toMatchObject({
      replicas: 3,
      replication: 'the Sentinels are asked once a store pod is ready',
    });
    await settle();
    // The Sentinels' Service first, then each pod's Sentinel.
    expect(sentinels.asked.at(-1)).toEqual({
      sentinels: [
        'demo-store-sentinel.team-a.svc:26379',
        'demo-store-0.demo-store-pods.team-a.svc:26379',
        'demo-store-1.demo-store-pods.team-a.svc:26379',
        'demo-store-2.demo-store-pods.team-a.svc:26379',
      ],
      password: PASSWORD,
    });
    expect(cluster.getRuntime(NS, 'demo').status?.store).toEqual({
      mode: 'Managed',
      endpoint: 'demo-store-sentinel.team-a.svc:26379',
      secretName: 'demo-store',
      replicas: 3,
      primary: 'demo-store-0',
      replicasInSync: 2,
      replication: 'primary demo-store-0, 2 of 2 replicas in sync',
    });
    expect(condition('StoreReady')).toMatchObject({
      status: 'True',
      reason: 'StoreAvailable',
      message:
        'StatefulSet demo-store serves demo-store-sentinel.team-a.svc:26379: primary demo-store-0, 2 of 2 replicas in sync',
    });
    expect(cluster.get<V1StatefulSet>('StatefulSet', NS, 'demo-store')?.spec?.replicas).toBe(3);
    expect(cluster.get<V1ConfigMap>('ConfigMap', NS, 'demo-config')?.data?.STORE_TOPOLOGY).toBe('sentinel');
  });

  it('looks again soon, and follows a failover and the replicas catching up', async () => {
    const sentinels = new FakeSentinels();
    const { cluster, reconciler, settle, condition } = setup(REPLICATED, sentinels);
    await settle();
    expect(await reconciler.reconcile(KEY)).toEqual({ requeueAfterMs: STORE_ROLES_RECHECK_MS });

    sentinels.answer = { primary: 'demo-store-0', primaryDown: true, replicas: 2, replicasInSync: 0 };
    await reconciler.reconcile(KEY);
    expect(condition('StoreReady')).toMatchObject({ status: 'False', reason: 'StoreUnavailable' });
    expect(condition('StoreReady')?.message).toMatch(/consider primary demo-store-0 down/);

    sentinels.answer = { primary: 'demo-store-1', primaryDown: false, replicas: 2, replicasInSync: 0 };
    await reconciler.reconcile(KEY);
    expect(condition('StoreReady')).toMatchObject({ status: 'False', reason: 'StoreReplicasOutOfSync' });
    expect(condition('StoreReady')?.message).toBe(
      'primary demo-store-1, 0 of 2 replicas in sync, and a commit waits for 1: the primary refuses writes until enough catch up',
    );

    sentinels.answer = { primary: 'demo-store-1', primaryDown: false, replicas: 2, replicasInSync: 1 };
    await reconciler.reconcile(KEY);
    expect(condition('StoreReady')).toMatchObject({ status: 'True', reason: 'StoreAvailable' });
    expect(cluster.getRuntime(NS, 'demo').status?.store).toMatchObject({
      primary: 'demo-store-1',
      replicasInSync: 1,
    });
  });

  it('writes nothing on later passes while nothing changes', async () => {
    const { cluster, reconciler, settle, clear } = setup(REPLICATED, new FakeSentinels());
    await settle();
    await reconciler.reconcile(KEY);
    clear();
    for (let i = 0; i < 3; i++) await reconciler.reconcile(KEY);
    expect(cluster.writes).toEqual([]);
  });

  it('goes by its pods when the Sentinels cannot be asked', async () => {
    const sentinels = new FakeSentinels();
    sentinels.answer = 'getaddrinfo ENOTFOUND demo-store-sentinel.team-a.svc';
    const { cluster, settle, condition } = setup(REPLICATED, sentinels);
    await settle();
    expect(condition('StoreReady')).toMatchObject({ status: 'True', reason: 'StoreAvailable' });
    const store = cluster.getRuntime(NS, 'demo').status?.store;
    expect(store).not.toHaveProperty('primary');
    expect(store?.replication).toBe(
      'the Sentinels did not answer the operator: getaddrinfo ENOTFOUND demo-store-sentinel.team-a.svc',
    );
  });

  it('refuses a StatefulSet governed by a Service that gives its pods no names, and says how to recreate it', async () => {
    const sentinels = new FakeSentinels();
    const { cluster, reconciler, settle, condition } = setup({}, sentinels);
    await settle();
    // A StatefulSet from before the headless Service: governed by the ClusterIP Service.
    cluster.get<V1StatefulSet>('StatefulSet', NS, 'demo-store')!.spec!.serviceName = 'demo-store';
    cluster.putRuntime({ ...cluster.getRuntime(NS, 'demo'), spec: REPLICATED });
    await reconciler.reconcile(KEY);
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'StoreServiceImmutable' });
    expect(condition('Degraded')?.message).toMatch(
      /kubectl delete statefulset demo-store --cascade=orphan`: its pod and volume are kept/,
    );
    expect(cluster.get<V1StatefulSet>('StatefulSet', NS, 'demo-store')?.spec?.replicas).toBe(1);
    expect(sentinels.asked).toEqual([]);
  });

  it('keeps one Redis governed by the Service it was created with', async () => {
    const { cluster, reconciler, settle, clear } = setup();
    await settle();
    cluster.get<V1StatefulSet>('StatefulSet', NS, 'demo-store')!.spec!.serviceName = 'demo-store';
    clear();
    await reconciler.reconcile(KEY);
    expect(cluster.get<V1StatefulSet>('StatefulSet', NS, 'demo-store')?.spec?.serviceName).toBe('demo-store');
  });

  it('writes a Secret without the Sentinels’ URL again, with the same password', async () => {
    const { cluster, reconciler, settle } = setup();
    await settle();
    const secret = cluster.get<V1Secret>('Secret', NS, 'demo-store')!;
    delete secret.data!.sentinelUrl;
    cluster.putRuntime({ ...cluster.getRuntime(NS, 'demo'), spec: REPLICATED });
    cluster.writes.length = 0;
    await reconciler.reconcile(KEY);
    expect(cluster.writes.slice(0, 2)).toEqual(['delete Secret', 'create Secret']);
    const data = cluster.get<V1Secret>('Secret', NS, 'demo-store')!.data!;
    expect(Buffer.from(data.password!, 'base64').toString()).toBe(PASSWORD);
    expect(Buffer.from(data.sentinelUrl!, 'base64').toString()).toBe(
      `redis://:${PASSWORD}@demo-store-sentinel.team-a.svc:26379`,
    );
  });

  it('refuses an even number of pods, or more acknowledgements than replicas, when admission did not', async () => {
    const even = setup({ store: { managed: { replicas: 2 } } });
    await even.reconciler.reconcile(KEY);
    expect(even.condition('Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(even.condition('Degraded')?.message).toMatch(/store.managed.replicas 2 must be odd, from 1 to 7/);
    const acks = setup({ store: { managed: { replicas: 3, durability: { ackReplicas: 3 } } } });
    await acks.reconciler.reconcile(KEY);
    expect(acks.condition('Degraded')?.message).toMatch(
      /ackReplicas 3 must be at most store.managed.replicas - 1 = 2/,
    );
    expect(acks.cluster.get('StatefulSet', NS, 'demo-store')).toBeUndefined();
  });
});
