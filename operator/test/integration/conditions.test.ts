// Status that tells the truth, against the real API server: an over-budget spec is refused at
// admission with its numbers; a generation the operator has not seen yet, or a rollout that cannot
// finish, never shows Ready=True (and the documented `kubectl wait` lines wait for it); a pod that
// cannot be scheduled or keeps crashing shows in the conditions and in an Event naming it; and the
// scale-out warning compares the HPA's point with an idle kernel's working set.
import type { V1Pod } from '@kubernetes/client-node';
import yaml from 'js-yaml';

import { KERNEL_IDLE_WORKING_SET_MB, KERNEL_OVERHEAD_MB } from '../../src/api/defaults.js';
import { budgetRefusal } from '../../src/policies/budget.js';
import { deploymentOf, eventOn, rolledOut } from './harness/children.js';
import { consistently } from './harness/eventually.js';
import { condition, type NexusRuntime } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';

const suite = useSuite('conditions');
let operator: OperatorProcess;

const manifest = (name: string, spec: Record<string, unknown>) =>
  yaml.dump({ apiVersion: 'nexus.dev/v1alpha1', kind: 'NexusRuntime', metadata: { name }, spec });

const kubectl = (args: string[], input?: string) =>
  suite.cluster.kubectl(['-n', suite.namespace, ...args], input);

async function kernelPods(name: string): Promise<V1Pod[]> {
  const pods = await suite.cluster.core.listNamespacedPod({
    namespace: suite.namespace,
    labelSelector: `app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=${name}`,
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

describe('conditions and refusals', () => {
  beforeAll(async () => {
    operator = await OperatorProcess.start(suite.cluster.state, { identity: 'conditions' });
  });

  // The three specs of the issue, with the defaults: 1Gi limit, 32 MB sandboxes, a 128Mi in-memory
  // cache and a 64Mi panel cache.
  const fixed = { overheadMB: KERNEL_OVERHEAD_MB, cacheMB: 128, panelCacheMB: 64 };
  test.each([
    [
      'maxInstances 64',
      { runtime: { maxInstances: 64 } },
      { instances: 64, instancesGiven: true, instanceMB: 32, limitMB: 1024, ...fixed },
    ],
    [
      'memoryLimitMB 1024',
      { runtime: { memoryLimitMB: 1024 } },
      { instances: 1, instancesGiven: false, instanceMB: 1024, limitMB: 1024, ...fixed },
    ],
    [
      'a 512Mi limit with 8 × 128 MB',
      { resources: { limits: { memory: '512Mi' } }, runtime: { maxInstances: 8, memoryLimitMB: 128 } },
      { instances: 8, instancesGiven: true, instanceMB: 128, limitMB: 512, ...fixed },
    ],
  ])('admission refuses %s with the numbers the status would carry', (_what, spec, figures) => {
    const name = `over-${Math.random().toString(36).slice(2, 8)}`;
    const result = kubectl(['apply', '-f', '-'], manifest(name, spec));
    expect(result.status).not.toBe(0);
    // The same sentence as the Degraded message (policies/budget.ts): required, limit, what fits.
    const expected = budgetRefusal(figures);
    expect(result.stderr).toContain(expected);
    expect(expected).toMatch(/= \d+Mi, above resources\.limits\.memory \d+Mi\. Fits: /);
  });

  test('a generation not yet observed is not Ready: kubectl wait does not return on the previous one', async () => {
    kubectl(['apply', '-f', '-'], manifest('waited', { autoscaling: { enabled: false }, replicas: 1 }));
    await waitReady(suite, 'waited');

    // With the operator stopped nothing observes the change: the conditions still describe the
    // previous generation, and `kubectl wait --for=condition=Ready` must not take them for this one.
    await operator.stop();
    const generation = kubectl([
      'patch',
      'nxr/waited',
      '--type',
      'merge',
      '-p',
      '{"spec":{"runtime":{"memoryLimitMB":64}}}',
      '-o',
      'jsonpath={.metadata.generation}',
    ]).stdout;
    const stale = await suite.cluster.getRuntime(suite.namespace, 'waited');
    expect(condition(stale, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(stale, 'Ready')?.observedGeneration).toBeLessThan(Number(generation));
    const early = kubectl(['wait', 'nxr/waited', '--for=condition=Ready', '--timeout=3s']);
    expect(early.status).not.toBe(0);
    expect(early.stderr).toMatch(/timed out/);

    // The documented lines (docs/operator.md, "Waiting for a change"), with the operator back.
    operator = await OperatorProcess.start(suite.cluster.state, { identity: 'conditions' });
    const observed = kubectl([
      'wait',
      'nxr/waited',
      `--for=jsonpath={.status.observedGeneration}=${generation}`,
      '--timeout=60s',
    ]);
    expect(observed.stderr).toBe('');
    expect(observed.status).toBe(0);
    const ready = kubectl(['wait', 'nxr/waited', '--for=condition=Ready', '--timeout=120s']);
    expect(ready.stderr).toBe('');
    expect(ready.status).toBe(0);
    // When they return, the change is rolled out.
    const runtime = await suite.cluster.getRuntime(suite.namespace, 'waited');
    expect(condition(runtime, 'Ready')).toMatchObject({
      status: 'True',
      observedGeneration: Number(generation),
    });
    const deployment = await deploymentOf(suite, 'waited');
    expect(rolledOut(deployment)).toBe(true);
    expect(Object.values(deployment?.spec?.template.metadata?.annotations ?? {})).toContain(
      runtime.status?.configHash,
    );
    for (const pod of await kernelPods('waited')) {
      expect(Object.values(pod.metadata?.annotations ?? {})).toContain(runtime.status?.configHash);
    }
  });

  test('a rollout whose new pod cannot be scheduled is not Ready, names the pod, and records one Event', async () => {
    kubectl(['apply', '-f', '-'], manifest('pinned', { autoscaling: { enabled: false }, replicas: 1 }));
    await waitReady(suite, 'pinned');
    // A node selector no node matches: the surge pod stays Pending, the old pod keeps serving.
    const patched = await suite.cluster.patchRuntimeSpec(suite.namespace, 'pinned', {
      pod: { nodeSelector: { 'nexus.dev/test-node': 'nowhere' } },
    });
    const stuck = await waitRuntime(
      suite,
      'pinned',
      'Degraded with PodUnschedulable at the new generation',
      (r) =>
        condition(r, 'Degraded')?.reason === 'PodUnschedulable' &&
        condition(r, 'Degraded')?.observedGeneration === patched.metadata.generation,
    );
    const pending = (await kernelPods('pinned')).find((p) => p.status?.phase === 'Pending');
    expect(pending).toBeDefined();
    const podName = pending!.metadata!.name!;
    expect(condition(stuck, 'Degraded')?.message).toContain(
      `kernel pod ${podName} cannot be scheduled: 0/1 nodes`,
    );
    expect(condition(stuck, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(condition(stuck, 'Ready')?.message).toContain(podName);
    expect(condition(stuck, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(condition(stuck, 'Progressing')?.message).toContain(`blocked: kernel pod ${podName}`);
    const event = await eventOn(suite, 'pinned', 'PodUnschedulable');
    expect(event).toContain(podName);
    // The documented wait does not return while the rollout cannot finish.
    const wait = kubectl(['wait', 'nxr/pinned', '--for=condition=Ready', '--timeout=3s']);
    expect(wait.status).not.toBe(0);
    // Later passes (pod updates, the resync) do not repeat the Event.
    await consistently(
      'one PodUnschedulable Event',
      async () => {
        const events = await suite.cluster.core.listNamespacedEvent({
          namespace: suite.namespace,
          fieldSelector: 'involvedObject.name=pinned,reason=PodUnschedulable',
        });
        return events.items.length === 1 && (events.items[0]?.count ?? 1) === 1;
      },
      5_000,
    );

    // Fixed: the rollout finishes, Ready at the new generation, and Degraded clears.
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'pinned', { pod: { nodeSelector: null } });
    const fixed = await waitReady(suite, 'pinned');
    expect(condition(fixed, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    await eventOn(suite, 'pinned', 'Recovered');
  });

  test('a crash-looping kernel pod shows in Degraded and in an Event naming it', async () => {
    kubectl(['apply', '-f', '-'], manifest('crashing', { autoscaling: { enabled: false }, replicas: 1 }));
    await waitReady(suite, 'crashing');
    const [pod] = await kernelPods('crashing');
    const name = pod!.metadata!.name!;
    // What the kubelet writes for a container in back-off (the simulated node never does; KWOK's
    // stages leave a Running pod alone).
    await suite.cluster.core.replaceNamespacedPodStatus({
      name,
      namespace: suite.namespace,
      body: {
        ...pod!,
        status: {
          ...pod!.status,
          phase: 'Running',
          conditions: (pod!.status?.conditions ?? []).map((c) =>
            c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False' } : c,
          ),
          containerStatuses: [
            {
              name: 'kernel',
              image: pod!.spec!.containers[0]!.image!,
              imageID: '',
              ready: false,
              restartCount: 4,
              state: {
                waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
              },
              lastState: {
                terminated: { exitCode: 1, reason: 'Error', startedAt: new Date(), finishedAt: new Date() },
              },
            },
          ],
        },
      },
    });
    // Degraded names the pod at once; Ready follows as the Deployment counts the pod unavailable.
    const crashing = await waitRuntime(
      suite,
      'crashing',
      'Degraded with CrashLooping, and not Ready',
      (r) => condition(r, 'Degraded')?.reason === 'CrashLooping' && condition(r, 'Ready')?.status === 'False',
    );
    const message = `kernel pod ${name} is crash-looping: container kernel restarted 4 times; last exit: Error, code 1`;
    expect(condition(crashing, 'Degraded')).toMatchObject({ status: 'True', message });
    expect(await eventOn(suite, 'crashing', 'CrashLooping')).toBe(message);
    expect(condition(crashing, 'Ready')?.message).toContain(message);
  });

  test('the scale-out warning compares the HPA point with an idle kernel’s working set', async () => {
    // The runtime: 128Mi at 80% scales out at 102Mi; its RSS-like overhead (157Mi) is above
    // that, its working set (96 MiB) is not, and the HPA indeed sat at one replica.
    kubectl(['apply', '-f', '-'], manifest('requested', { resources: { requests: { memory: '128Mi' } } }));
    const healthy = await waitReady(suite, 'requested');
    expect(healthy.status?.memoryBudget).toMatchObject({
      hpaScaleOutMB: 102,
      idleWorkingSetMB: KERNEL_IDLE_WORKING_SET_MB,
      overheadMB: KERNEL_OVERHEAD_MB,
    });
    expect(condition(healthy, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });

    // Below the working set the warning is true, and says what clears it.
    const low = await suite.cluster.patchRuntimeSpec(suite.namespace, 'requested', {
      resources: { requests: { memory: '96Mi' } },
    });
    const warned: NexusRuntime = await waitRuntime(
      suite,
      'requested',
      'Degraded with ScaleOutBelowOverhead',
      (r) =>
        condition(r, 'Degraded')?.reason === 'ScaleOutBelowOverhead' &&
        r.status?.observedGeneration === low.metadata.generation,
    );
    expect(condition(warned, 'Degraded')?.message).toContain(
      `the HPA scales out at 76Mi of working set (80% of the 96Mi memory request) but an idle kernel's working set is already ~${KERNEL_IDLE_WORKING_SET_MB}Mi`,
    );
    await eventOn(suite, 'requested', 'ScaleOutBelowOverhead');
  });
});
