// The reconciler with what the pods say: a stuck pod shows in the conditions at once, and each
// (pod, problem) gets one Warning event naming the pod, not one per pass.
import type { V1Pod } from '@kubernetes/client-node';
import { KEY, NS, setup } from '../testing/reconciler-setup.js';

function stuckPod(name: string, status: V1Pod['status']): V1Pod {
  return {
    metadata: {
      name,
      namespace: NS,
      labels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
    },
    status,
  };
}

const unschedulable: V1Pod['status'] = {
  phase: 'Pending',
  conditions: [
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/1 nodes are available: 1 Insufficient cpu.',
    },
  ],
};

describe('Reconciler and pods', () => {
  it('reports an unschedulable pod in Degraded and in one Warning event, then recovers', async () => {
    const { cluster, reconciler, settle, condition, clear } = setup();
    await settle();
    expect(condition('Ready')?.status).toBe('True');
    clear();

    cluster.put('Pod', stuckPod('demo-7f9-abcde', unschedulable));
    await reconciler.reconcile(KEY);
    const message =
      'kernel pod demo-7f9-abcde cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu';
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'PodUnschedulable', message });
    expect(cluster.events).toEqual([{ type: 'Warning', reason: 'PodUnschedulable', message }]);

    // The same problem on later passes: no new event, no new status write.
    clear();
    await reconciler.reconcile(KEY);
    await reconciler.reconcile(KEY);
    expect(cluster.events).toEqual([]);
    expect(cluster.writes.filter((w) => w === 'status')).toEqual([]);

    // The pod turns into a crash loop: a new problem, a new event.
    cluster.put(
      'Pod',
      stuckPod('demo-7f9-abcde', {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'kernel',
            image: 'k',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          },
        ],
      }),
    );
    await reconciler.reconcile(KEY);
    expect(cluster.events).toEqual([
      {
        type: 'Warning',
        reason: 'CrashLooping',
        message:
          'kernel pod demo-7f9-abcde is crash-looping: container kernel restarted 3 times; last exit: OOMKilled, code 137',
      },
    ]);

    // Gone: Degraded clears with a Recovered event.
    clear();
    cluster.remove('Pod', NS, 'demo-7f9-abcde');
    await reconciler.reconcile(KEY);
    expect(condition('Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cluster.events.map((e) => e.reason)).toEqual(['Recovered']);
  });
});
