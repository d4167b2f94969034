// Step 4: three replicas share one store. A panel created through one pod is triggered through the
// others; 40 concurrent increments spread over the pods end exact; a subscriber on each pod sees
// the same gap-free PATCH sequence.
import { check, checkEqual, info, step } from '../report.js';
import { counter } from '../panels.js';
import type { ExecutionResult, Frame } from '../kernel-client.js';
import { NAMESPACE, SAMPLE, connect, readyKernelPods, waitReady, type Suite } from '../suite.js';

const REPLICAS = 3;
const INCREMENTS = 40;

export async function replicas(suite: Suite): Promise<void> {
  step(
    `4/6 ${REPLICAS} replicas: one panel through every pod, ${INCREMENTS} concurrent increments, one PATCH sequence`,
  );
  await suite.kubectl.patch(NAMESPACE, `nexusruntime/${SAMPLE}`, {
    spec: { autoscaling: { enabled: false }, replicas: REPLICAS },
  });
  await waitReady(suite, SAMPLE, 300_000);
  const pods = await readyKernelPods(suite, SAMPLE, REPLICAS, 300_000);
  const kernels = await Promise.all(pods.map((pod) => connect(suite, `pod/${pod.metadata.name}`)));
  info(`port-forwards to ${pods.map((pod) => pod.metadata.name).join(', ')}`);

  const panel = await kernels[0]!.createPanel(counter);
  for (const [i, kernel] of kernels.entries()) {
    const result = await kernel.trigger(panel.id, 'increment', { by: 0 });
    checkEqual(result.status, 'success', `the panel created through pod 0 runs through pod ${i}`);
  }
  const subscribers = await Promise.all(kernels.map((kernel) => kernel.subscribe(panel.id)));
  const start = subscribers[0]!.connected.version!;
  check(
    subscribers.every((s) => s.connected.version === start),
    `every subscriber starts at the same version (v${start})`,
    subscribers.map((s) => s.connected.version),
  );

  const results: ExecutionResult[] = await Promise.all(
    Array.from({ length: INCREMENTS }, (_, i) =>
      kernels[i % REPLICAS]!.trigger(panel.id, 'increment', { by: 1 }),
    ),
  );
  check(
    results.every((r) => r.status === 'success'),
    `all ${INCREMENTS} increments succeeded`,
    results.filter((r) => r.status !== 'success'),
  );
  const returned = results.map((r) => r.returnValue as number).sort((a, b) => a - b);
  checkEqual(
    returned,
    Array.from({ length: INCREMENTS }, (_, i) => i + 1),
    'each saw a distinct count: none lost, none doubled',
  );
  for (const [i, kernel] of kernels.entries()) {
    checkEqual((await kernel.panel(panel.id)).state.count, INCREMENTS, `pod ${i} reads the exact total`);
  }

  const last = start + INCREMENTS;
  const expected = Array.from({ length: INCREMENTS }, (_, i) => start + 1 + i);
  const sequences: string[] = [];
  for (const [i, subscriber] of subscribers.entries()) {
    await subscriber.waitFor((frame: Frame) => frame.type === 'PATCH' && frame.version === last, 30_000);
    checkEqual(
      subscriber.patchVersions(),
      expected,
      `the subscriber on pod ${i} saw v${start + 1}..v${last}, in order, no gaps`,
    );
    sequences.push(
      JSON.stringify(
        subscriber.frames.filter((f) => f.type === 'PATCH').map((f) => [f.version, f.mutations]),
      ),
    );
    subscriber.close();
  }
  check(
    sequences.every((s) => s === sequences[0]),
    'and every subscriber saw the same mutations for each version',
  );
  suite.panels.set('shared', panel.id);
}
