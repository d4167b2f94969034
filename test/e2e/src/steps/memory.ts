// Step 5a: memory limits bind for real. The container's cgroup enforces the limit of the pod spec
// and the kernel caps its instances as the budget says; 30 concurrent handlers (of 30 panels)
// that exhaust their instances all end in MEMORY_LIMIT while the pod keeps running (0 restarts)
// and the container never reaches its limit. A NexusRuntime whose budget cannot fit is refused
// or Degraded, and the old pods keep serving.
import { cgroupMemory, mib, quantityBytes } from '../cgroup.js';
import { condition, kernelSelector } from '../cluster.js';
import { check, checkEqual, info, step } from '../report.js';
import { bomb } from '../panels.js';
import {
  NAMESPACE,
  SAMPLE,
  connect,
  eventuallyDegraded,
  readyKernelPods,
  waitReady,
  type Suite,
} from '../suite.js';

const BOMBS = 30;

export async function memoryLimits(suite: Suite): Promise<void> {
  const { kubectl } = suite;
  step(`5/6 memory: ${BOMBS} concurrent memory bombs against one pod; a budget that cannot fit`);
  const pods = await kubectl.pods(NAMESPACE, kernelSelector(SAMPLE));
  const [pod] = await readyKernelPods(suite, SAMPLE, pods.length, 60_000);
  const name = pod!.metadata.name;
  const restarts = (p: typeof pod) => p!.status.containerStatuses?.[0]?.restartCount ?? -1;
  const restartsBefore = restarts(pod);
  const kernel = await connect(suite, `pod/${name}`);
  const runtime = await kubectl.runtime(NAMESPACE, SAMPLE);
  const budget = runtime.status?.memoryBudget;
  const limit = pod!.spec.containers.find((c) => c.name === 'kernel')?.resources?.limits?.memory;
  check(limit !== undefined, 'the kernel container has a memory limit', pod!.spec.containers);
  const cgroupBefore = await cgroupMemory(kubectl, NAMESPACE, name, 'kernel');
  checkEqual(
    cgroupBefore.limitBytes,
    quantityBytes(limit!),
    `the container's cgroup enforces limits.memory ${limit}`,
  );
  const health = await kernel.health();
  checkEqual(
    [health.config.maxInstances, health.config.memoryLimitMB],
    [budget?.maxInstances, budget?.instanceMB],
    'the kernel caps its instances as status.memoryBudget says ([maxInstances, MB each])',
  );

  // A panel each: executions of one panel take turns, while those of different panels fill every
  // instance the kernel may run at once.
  const panels = await Promise.all(Array.from({ length: BOMBS }, () => kernel.createPanel(bomb)));
  const results = await Promise.all(panels.map((panel) => kernel.trigger(panel.id, 'explode')));
  const codes = results.map((r) => r.error?.code ?? r.status);
  check(
    codes.every((code) => code === 'MEMORY_LIMIT'),
    `all ${BOMBS} ended in MEMORY_LIMIT`,
    codes,
  );
  checkEqual((await kernel.health()).status, 'ok', 'the kernel still answers /health');
  const podAfter = await kubectl.json<typeof pod>(['-n', NAMESPACE, 'get', 'pod', name]);
  checkEqual(restarts(podAfter), restartsBefore, `pod ${name} kept running: no container restart`);
  const cgroupAfter = await cgroupMemory(kubectl, NAMESPACE, name, 'kernel');
  info(
    `cgroup: peak ${mib(cgroupAfter.peakBytes)} of ${mib(cgroupAfter.limitBytes)} since the container started`,
  );
  checkEqual(
    cgroupAfter.hitLimit - cgroupBefore.hitLimit,
    0,
    'the instance caps kept the container off its limit: the cgroup never ran into it',
  );

  // A budget that cannot fit: 64 instances of 1 GiB each in a 1 GiB container.
  const hashBefore = await kubectl.run([
    '-n',
    NAMESPACE,
    'get',
    'deployment',
    SAMPLE,
    '-o',
    'jsonpath={.spec.template.metadata.annotations}',
  ]);
  const refused = await kubectl
    .patch(NAMESPACE, `nexusruntime/${SAMPLE}`, {
      spec: { runtime: { memoryLimitMB: 1024, maxInstances: 64 } },
    })
    .then(
      () => undefined,
      (error: Error) => error.message,
    );
  if (refused) {
    info(`refused: ${refused.split('\n')[0]}`);
    check(
      /memory|budget|fit/i.test(refused),
      'the API server refused the over-budget spec, naming the budget',
      refused,
    );
  } else {
    const degraded = await eventuallyDegraded(suite, SAMPLE, (runtime.metadata.generation ?? 0) + 1);
    info(`Degraded: ${degraded.reason}: ${degraded.message}`);
    check(true, 'the over-budget NexusRuntime is Degraded');
    const hashAfter = await kubectl.run([
      '-n',
      NAMESPACE,
      'get',
      'deployment',
      SAMPLE,
      '-o',
      'jsonpath={.spec.template.metadata.annotations}',
    ]);
    checkEqual(
      hashAfter,
      hashBefore,
      'the Deployment was left as it was (no roll to a configuration that cannot fit)',
    );
    const serving = await connect(suite, `svc/${SAMPLE}`);
    checkEqual(
      (await serving.health()).config.memoryLimitMB,
      64,
      'the old pods keep serving with the old limit',
    );
    await kubectl.patch(NAMESPACE, `nexusruntime/${SAMPLE}`, {
      spec: { runtime: { memoryLimitMB: 64, maxInstances: null } },
    });
    await waitReady(suite, SAMPLE, 120_000);
    const fixed = await kubectl.runtime(NAMESPACE, SAMPLE);
    checkEqual(
      condition(fixed, 'Degraded')?.status,
      'False',
      'with the budget put back it is no longer Degraded',
    );
  }
}
