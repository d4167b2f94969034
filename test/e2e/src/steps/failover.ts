// Step 7: the replicated store survives the loss of its primary. A NexusRuntime whose store is
// three Redis pods with a Sentinel beside each (config/samples/nexusruntime-replicated-store.yaml);
// a stream of increments through both kernels and a subscriber; then SIGKILL of the primary's
// redis-server, on the node, as a crash would: no acknowledged increment is lost, none applies
// twice, the kernels serve again once the Sentinels promote a replica (how long that took is
// reported, not asserted), and the subscriber's versions stay gap-free. The runtime is deleted
// at the end, so the node is left as the earlier steps left it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { condition, type Pod } from '../cluster.js';
import { counter } from '../panels.js';
import { check, checkEqual, eventually, info, step } from '../report.js';
import { NAMESPACE, connect, readyKernelPods, waitReady, type Suite } from '../suite.js';

const NAME = 'replicated';
/** Increments started per second, spread over the kernels, and at most this many in flight. */
const RATE = 40;
const MAX_IN_FLIGHT = 40;
/** The stream runs this long before the kill, and this long after the fleet serves again. */
const BEFORE_MS = 5_000;
const AFTER_MS = 5_000;
/** Past this without one increment served after the kill, the step fails. */
const RECOVERY_LIMIT_MS = 90_000;

interface Outcome {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  readonly code?: string;
  readonly value?: number;
}

/**
 * Kills the pod's redis-server (not its Sentinel) with SIGKILL from the node: the kubelet's
 * containers are processes of this machine, found by the pod's UID in their cgroup.
 */
function killRedisServer(pod: Pod): number {
  const uid = pod.metadata.uid;
  if (uid === undefined) throw new Error(`pod ${pod.metadata.name} has no uid`);
  const tags = [uid, uid.replaceAll('-', '_')];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      if (!tags.some((tag) => cgroup.includes(tag))) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (!command.startsWith('redis-server') || command.includes('sentinel')) continue;
      process.kill(Number(entry), 'SIGKILL');
      return Number(entry);
    } catch {
      // a process that ended meanwhile, or one not readable: not the one
    }
  }
  throw new Error(`no redis-server process of pod ${pod.metadata.name} (uid ${uid}) on this machine`);
}

export async function failover(suite: Suite): Promise<void> {
  const { kubectl } = suite;
  step(`7/7 a replicated store: SIGKILL of its primary under ${RATE} increments/s`);
  await kubectl.run([
    '-n',
    NAMESPACE,
    'apply',
    '-f',
    join(suite.root, 'config/samples/nexusruntime-replicated-store.yaml'),
  ]);
  try {
    await waitReady(suite, NAME, 300_000);
    const primary = await eventually('StoreReady with a primary and a replica in sync', 180_000, async () => {
      const runtime = await kubectl.runtime(NAMESPACE, NAME);
      const store = runtime.status?.store;
      const ready = condition(runtime, 'StoreReady')?.status === 'True';
      return ready && store?.primary !== undefined && (store.replicasInSync ?? 0) >= 1
        ? store.primary
        : undefined;
    });
    info(`primary ${primary}`);
    const pods = await readyKernelPods(suite, NAME, 2, 120_000);
    const kernels = await Promise.all(pods.map((pod) => connect(suite, `pod/${pod.metadata.name}`)));
    const panel = await kernels[0]!.createPanel(counter);
    const subscriber = await kernels[1]!.subscribe(panel.id);

    const outcomes: Outcome[] = [];
    const running = new Set<Promise<void>>();
    let stop = false;
    let sent = 0;
    const stream = (async () => {
      while (!stop) {
        if (running.size < MAX_IN_FLIGHT) {
          const kernel = kernels[sent % kernels.length]!;
          sent += 1;
          const startedAt = Date.now();
          const attempt = kernel.attempt(panel.id, 'increment', { by: 1 }).then(
            ({ status, body }) => {
              const code = (body as { error?: { code?: string } }).error?.code;
              outcomes.push({
                startedAt,
                endedAt: Date.now(),
                status,
                ...(code === undefined ? {} : { code }),
                ...(status === 200 && body.status === 'success' ? { value: body.returnValue as number } : {}),
              });
            },
            () => {
              outcomes.push({ startedAt, endedAt: Date.now(), status: 0 });
            },
          );
          running.add(attempt);
          void attempt.finally(() => running.delete(attempt));
        }
        await sleep(1000 / RATE);
      }
    })();

    await sleep(BEFORE_MS);
    const primaryPod = await kubectl.json<Pod>(['-n', NAMESPACE, 'get', 'pod', primary]);
    const killedAt = Date.now();
    const pid = killRedisServer(primaryPod);
    info(`SIGKILL to redis-server (pid ${pid}) of ${primary}`);
    const servedAgain = await eventually(
      'an increment served after the kill',
      RECOVERY_LIMIT_MS,
      () => Promise.resolve(outcomes.find((o) => o.startedAt > killedAt && o.value !== undefined)?.endedAt),
      { intervalMs: 100 },
    );
    await sleep(AFTER_MS);
    stop = true;
    await stream;
    await Promise.all([...running]);

    const acknowledged = outcomes.filter((o) => o.value !== undefined);
    const refused = outcomes.filter((o) => o.status === 429 || o.status === 503);
    const unknown = outcomes.filter((o) => o.status === 0 || o.status >= 500);
    const final = (await kernels[0]!.panel(panel.id)).state.count as number;
    info(
      `${outcomes.length} increments: ${acknowledged.length} acknowledged, ${refused.length} refused (429/503), ` +
        `${outcomes.length - acknowledged.length - refused.length} other; the count is ${final}`,
    );
    const refusedAfter = refused.filter((o) => o.startedAt >= killedAt);
    info(
      `served again ${((servedAgain - killedAt) / 1000).toFixed(1)} s after the kill` +
        (refusedAfter.length > 0
          ? `; refusals from ${((refusedAfter[0]!.endedAt - killedAt) / 1000).toFixed(1)} s to ${((refusedAfter.at(-1)!.endedAt - killedAt) / 1000).toFixed(1)} s`
          : '; nothing was refused'),
    );
    check(final >= acknowledged.length, 'no acknowledged increment was lost', {
      final,
      acknowledged: acknowledged.length,
    });
    // A refusal applied nothing; an answer that never came (or a 503 saying a change may be
    // applied) may have: the count lies between the two.
    check(final <= acknowledged.length + unknown.length, 'nothing was applied that was not asked for', {
      final,
      acknowledged: acknowledged.length,
      unknown: unknown.length,
    });
    const values = acknowledged.map((o) => o.value!).sort((a, b) => a - b);
    checkEqual(new Set(values).size, values.length, 'no two acknowledged increments saw the same count');

    await subscriber.waitFor((frame) => (frame.version ?? 0) >= final && frame.type !== 'CONNECTED', 60_000);
    let previous = subscriber.connected.version ?? 0;
    const gaps: string[] = [];
    for (const frame of subscriber.frames) {
      if (frame.type === 'SNAPSHOT') previous = frame.version ?? previous;
      else if (frame.type === 'PATCH') {
        if (frame.version !== previous + 1) gaps.push(`v${previous} → v${frame.version}`);
        previous = frame.version ?? previous;
      }
    }
    checkEqual(
      gaps,
      [],
      "the subscriber's PATCHes stayed gap-free across the failover (a SNAPSHOT restarts them)",
    );
    subscriber.close();
  } finally {
    await kubectl.run(['-n', NAMESPACE, 'delete', 'nexusruntime', NAME, '--wait=true', '--timeout=180s']);
  }
}
