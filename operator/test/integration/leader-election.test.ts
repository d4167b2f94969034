// Two operator processes: one leader writes, the other waits; killing the leader hands over within
// the lease period; SIGTERM releases the lease and exits 0.
import { eventually } from './harness/eventually.js';
import { ignoreNotFound } from './harness/kube.js';
import { OperatorProcess, TEST_LEASE } from './harness/operator-process.js';
import { useSuite, waitReady } from './harness/suite.js';

const suite = useSuite('leader');
/** The leader after the takeover, handed from the first test to the second. */
let current: OperatorProcess | undefined;

async function holder(): Promise<string | undefined> {
  const lease = await ignoreNotFound(
    suite.cluster.coordination.readNamespacedLease({
      namespace: suite.cluster.state.operatorNamespace,
      name: 'nexus-operator',
    }),
  );
  return lease?.spec?.holderIdentity || undefined;
}

const READ_VERBS = new Set(['get', 'list', 'watch']);

/** Requests other than reads and lease handling: what only a leader may send. */
async function writesOutsideTheLease(operator: OperatorProcess): Promise<number> {
  const samples = await operator.metricSamples('nexus_operator_api_requests_total');
  return samples
    .filter((s) => !READ_VERBS.has(s.labels.verb ?? '') && s.labels.kind !== 'Lease')
    .reduce((sum, s) => sum + s.value, 0);
}

describe('leader election', () => {
  test('one leader at a time; the follower takes over when the leader is killed', async () => {
    const a = await OperatorProcess.start(suite.cluster.state, { identity: 'leader-a' });
    const b = await OperatorProcess.start(suite.cluster.state, { identity: 'leader-b' });
    const operators = new Map([
      [a.identity, a],
      [b.identity, b],
    ]);
    const first = await eventually(
      'a lease holder among the two operators',
      async () => {
        const identity = await holder();
        return identity && operators.has(identity) ? identity : undefined;
      },
      { timeoutMs: (TEST_LEASE.durationSeconds * 3 + 10) * 1000 },
    );
    const leader = operators.get(first)!;
    const follower = first === a.identity ? b : a;

    await suite.cluster.createRuntime(suite.namespace, 'elected', {});
    await waitReady(suite, 'elected');
    expect(await leader.metricSum('nexus_operator_leader')).toBe(1);
    expect(await follower.metricSum('nexus_operator_leader')).toBe(0);
    // Only the leader reconciles and writes; the follower only watches the lease.
    expect(await leader.metricSum('nexus_operator_reconcile_total')).toBeGreaterThan(0);
    expect(await writesOutsideTheLease(leader)).toBeGreaterThan(0);
    expect(await follower.metricSum('nexus_operator_reconcile_total')).toBe(0);
    expect(await writesOutsideTheLease(follower)).toBe(0);
    // Both stay alive and healthy; only one of them leads.
    expect(await follower.probe('/healthz')).toBe(200);
    expect(await holder()).toBe(leader.identity);

    await leader.kill();
    const killedAt = Date.now();
    await eventually('the follower to take the lease', async () => (await holder()) === follower.identity, {
      // The lease must expire first: allow its duration plus retries on a loaded machine.
      timeoutMs: (TEST_LEASE.durationSeconds * 3 + 10) * 1000,
      intervalMs: 250,
    });
    console.log(
      `lease taken over ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the leader was killed`,
    );
    await eventually(
      'the new leader to report it',
      async () => (await follower.metricSum('nexus_operator_leader')) === 1,
    );

    // The new leader does the work.
    await suite.cluster.createRuntime(suite.namespace, 'after-takeover', {});
    await waitReady(suite, 'after-takeover');
    current = follower;
  });

  test('SIGTERM releases the lease and exits 0; a successor acquires it', async () => {
    const leader = current!;
    expect(await holder()).toBe(leader.identity);
    expect(await leader.stop()).toBe(0);
    // Released, not left to expire: nobody holds it once the process has gone.
    expect(await holder()).toBeUndefined();

    const successor = await OperatorProcess.start(suite.cluster.state, { identity: 'leader-c' });
    await eventually(
      'the successor to take the released lease',
      async () => (await holder()) === successor.identity,
      {
        timeoutMs: (TEST_LEASE.durationSeconds * 3 + 10) * 1000,
      },
    );
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'after-takeover', {
      runtime: { memoryLimitMB: 16 },
    });
    await waitReady(suite, 'after-takeover');
  });
});
