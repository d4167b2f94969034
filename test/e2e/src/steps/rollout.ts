// Step 3: kubectl patch memoryLimitMB. Progressing, then Ready, while the pods roll; the Service
// always has a ready endpoint (maxUnavailable 0); a fresh port-forward shows the new limit; the
// panel is still there with its state and version; a WebSocket client connected through the old
// pod resumes by version with no gap.
import { condition } from '../cluster.js';
import { check, checkEqual, info, sleep, step } from '../report.js';
import { NAMESPACE, SAMPLE, connect, readyKernelPods, waitReady, type Suite } from '../suite.js';

const NEW_LIMIT_MB = 64;

interface EndpointSlice {
  readonly endpoints?: readonly { readonly conditions?: { readonly ready?: boolean } }[];
}

/** Samples conditions and ready endpoints every 500 ms until stopped. */
function watchRoll(suite: Suite): {
  stop: () => Promise<{ progressing: boolean; minReady: number; samples: number }>;
} {
  let running = true;
  let progressing = false;
  let minReady = Number.POSITIVE_INFINITY;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const [runtime, slices] = await Promise.all([
        suite.kubectl.runtime(NAMESPACE, SAMPLE),
        suite.kubectl.json<{ items: EndpointSlice[] }>([
          '-n',
          NAMESPACE,
          'get',
          'endpointslices',
          '-l',
          `kubernetes.io/service-name=${SAMPLE}`,
        ]),
      ]);
      if (condition(runtime, 'Progressing')?.status === 'True') progressing = true;
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length;
      minReady = Math.min(minReady, ready);
      samples += 1;
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { progressing, minReady, samples };
    },
  };
}

export async function rollout(suite: Suite): Promise<void> {
  const { kubectl } = suite;
  step(
    `3/6 kubectl patch memoryLimitMB ${NEW_LIMIT_MB}: the pods roll, the panel and its subscribers carry on`,
  );
  const panelId = suite.panels.get('counter');
  if (!panelId) throw new Error('step 2 left no counter panel');
  const oldPods = (await readyKernelPods(suite, SAMPLE, 1, 60_000)).map((pod) => pod.metadata.name);

  const before = await connect(suite, `svc/${SAMPLE}`);
  const subscriber = await before.subscribe(panelId);
  const { version: connectedAt, epoch } = subscriber.connected;
  const bumped = await before.trigger(panelId, 'increment', { by: 1 });
  await subscriber.waitFor((frame) => frame.type === 'PATCH' && frame.version === bumped.version, 10_000);
  const lastSeen = bumped.version!;
  info(
    `subscribed through ${oldPods.join(', ')} at v${connectedAt} (epoch ${epoch}); saw PATCH v${lastSeen}`,
  );

  const watch = watchRoll(suite);
  await kubectl.patch(NAMESPACE, `nexusruntime/${SAMPLE}`, {
    spec: { runtime: { memoryLimitMB: NEW_LIMIT_MB } },
  });
  await waitReady(suite, SAMPLE, 300_000);
  await kubectl.run(['-n', NAMESPACE, 'rollout', 'status', `deployment/${SAMPLE}`, '--timeout=300s']);
  const newPods = (await readyKernelPods(suite, SAMPLE, 1, 120_000)).map((pod) => pod.metadata.name);
  const roll = await watch.stop();
  check(!newPods.some((name) => oldPods.includes(name)), 'every kernel pod was replaced', newPods);
  check(roll.progressing, 'the NexusRuntime was Progressing while the pods rolled, then Ready', roll);
  check(roll.minReady >= 1, `the Service never lacked a ready endpoint (${roll.samples} samples)`, roll);

  await subscriber.untilClosed(60_000);
  check(true, 'the WebSocket through the old pod closed when the pod went away');

  const after = await connect(suite, `svc/${SAMPLE}`);
  checkEqual(
    (await after.health()).config.memoryLimitMB,
    NEW_LIMIT_MB,
    'a fresh port-forward shows the new limit',
  );
  const panel = await after.panel(panelId);
  checkEqual(panel.state.count, 42, 'the panel is still there with its state');
  checkEqual(panel.version, lastSeen, 'and its version');

  const missed: number[] = [];
  for (let i = 0; i < 3; i += 1) missed.push((await after.trigger(panelId, 'increment', { by: 1 })).version!);
  const resumed = await after.subscribe(panelId, { since: lastSeen, epoch: epoch! });
  checkEqual(resumed.connected.resumed, true, `the client resumes with since=${lastSeen}&epoch=${epoch}`);
  checkEqual(resumed.connected.version, lastSeen, 'CONNECTED carries the version it resumed from');
  await resumed.waitFor((frame) => frame.type === 'PATCH' && frame.version === missed.at(-1), 10_000);
  const live = await after.trigger(panelId, 'increment', { by: 1 });
  await resumed.waitFor((frame) => frame.type === 'PATCH' && frame.version === live.version, 10_000);
  const expected = Array.from({ length: 4 }, (_, i) => lastSeen + 1 + i);
  checkEqual(resumed.patchVersions(), expected, 'then the PATCHes it missed and the live one, with no gap');
  resumed.close();
}
