import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { newProblems, podProblems, problemKey, summarizeProblems } from './pods.js';

function pod(name: string, status: V1Pod['status'], app = 'workspace-kernel', deleting = false): V1Pod {
  return {
    metadata: {
      name,
      labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': 'demo' },
      ...(deleting ? { deletionTimestamp: new Date() } : {}),
    },
    status,
  };
}

const container = (extra: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name: 'kernel',
  image: 'localhost/nexus/workspace-kernel:0.1.0',
  imageID: '',
  ready: false,
  restartCount: 0,
  ...extra,
});

describe('podProblems', () => {
  it('names an unschedulable pod and the scheduler’s reason', () => {
    const problems = podProblems([
      pod('demo-1', {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available: 1 Insufficient cpu.',
          },
        ],
      }),
    ]);
    expect(problems).toEqual([
      {
        pod: 'demo-1',
        component: 'kernel',
        reason: 'PodUnschedulable',
        message: 'kernel pod demo-1 cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu',
      },
    ]);
  });

  it('names an image that cannot be pulled', () => {
    const [problem] = podProblems([
      pod('demo-1', {
        phase: 'Pending',
        containerStatuses: [
          container({
            image: 'registry.invalid/kernel:9',
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: 'Back-off pulling image "registry.invalid/kernel:9"',
              },
            },
          }),
        ],
      }),
    ]);
    expect(problem).toMatchObject({
      reason: 'ImagePullFailed',
      message:
        'kernel pod demo-1 cannot pull image registry.invalid/kernel:9: ImagePullBackOff (Back-off pulling image "registry.invalid/kernel:9")',
    });
  });

  it('names a crash loop with its restarts and last exit, also between two back-offs', () => {
    const lastState = { terminated: { exitCode: 1, reason: 'Error' } };
    const waiting = pod('demo-1', {
      phase: 'Running',
      containerStatuses: [
        container({ restartCount: 4, lastState, state: { waiting: { reason: 'CrashLoopBackOff' } } }),
      ],
    });
    expect(podProblems([waiting])[0]).toMatchObject({
      reason: 'CrashLooping',
      message:
        'kernel pod demo-1 is crash-looping: container kernel restarted 4 times; last exit: Error, code 1',
    });
    // Running again after the back-off, not ready yet: still the same problem, no blinking.
    const between = pod('demo-1', {
      phase: 'Running',
      containerStatuses: [container({ restartCount: 5, lastState, state: { running: {} } })],
    });
    expect(podProblems([between])[0]?.reason).toBe('CrashLooping');
    // One restart long ago and ready now: no problem.
    const recovered = pod('demo-1', {
      phase: 'Running',
      containerStatuses: [container({ restartCount: 5, ready: true, lastState, state: { running: {} } })],
    });
    expect(podProblems([recovered])).toEqual([]);
  });

  it('names a container that cannot be created, and store pods after kernel pods', () => {
    const problems = podProblems([
      pod(
        'demo-store-0',
        {
          phase: 'Pending',
          containerStatuses: [
            container({
              name: 'redis',
              state: {
                waiting: { reason: 'CreateContainerConfigError', message: 'secret "demo-store" not found' },
              },
            }),
          ],
        },
        'nexus-store',
      ),
      pod('demo-x', {
        phase: 'Pending',
        containerStatuses: [container({ state: { waiting: { reason: 'ErrImagePull' } } })],
      }),
    ]);
    expect(problems.map((p) => [p.pod, p.component, p.reason])).toEqual([
      ['demo-x', 'kernel', 'ImagePullFailed'],
      ['demo-store-0', 'store', 'ContainerConfigError'],
    ]);
    expect(problems[1]?.message).toBe(
      'store pod demo-store-0 cannot start container redis: CreateContainerConfigError (secret "demo-store" not found)',
    );
    expect(summarizeProblems(problems)).toBe(
      `${problems[0]!.message} (and 1 more: demo-store-0: ContainerConfigError)`,
    );
  });

  it('does not count a store pod waiting for its claim to bind', () => {
    const binding = pod(
      'demo-store-0',
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found',
          },
        ],
      },
      'nexus-store',
    );
    expect(podProblems([binding])).toEqual([]);
  });

  it('ignores pods that are going away and healthy pods', () => {
    const starting = pod('demo-2', {
      phase: 'Pending',
      containerStatuses: [container({ state: { waiting: { reason: 'ContainerCreating' } } })],
    });
    const leaving = pod(
      'demo-3',
      {
        phase: 'Running',
        containerStatuses: [container({ state: { waiting: { reason: 'CrashLoopBackOff' } } })],
      },
      'workspace-kernel',
      true,
    );
    expect(podProblems([starting, leaving])).toEqual([]);
    expect(summarizeProblems([])).toBeUndefined();
  });
});

describe('newProblems', () => {
  it('returns each (pod, reason) once: the Events fire on transitions only', () => {
    const stuck = podProblems([
      pod('demo-1', {
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no' }],
      }),
    ]);
    expect(newProblems(new Set(), stuck)).toHaveLength(1);
    expect(newProblems(new Set(stuck.map(problemKey)), stuck)).toEqual([]);
    const crashing = podProblems([
      pod('demo-1', {
        containerStatuses: [container({ state: { waiting: { reason: 'CrashLoopBackOff' } } })],
      }),
    ]);
    expect(newProblems(new Set(stuck.map(problemKey)), crashing)).toEqual(crashing);
  });
});
