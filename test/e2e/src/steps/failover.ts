// Step 7: the replicated store survives the loss of its primary. A NexusRuntime whose store is
// three Redis pods with a Sentinel beside each (config/samples/nexusruntime-replicated-store.yaml);
// a stream of increments through both kernels and a subscriber, each increment sent with its own
// Idempotency-Key and retried with it until answered, the way a careful client does; then SIGKILL
// of the primary's redis-server, on the node, as a crash would: every increment is applied exactly
// once (the count equals the number of keys), the kernels serve again once the Sentinels promote a
// replica (how long that took is reported, not asserted), and the subscriber's versions stay
// gap-free. The runtime is deleted at the end, so the node is left as the earlier steps left it.
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

/** One attempt of one keyed increment. */
interface Outcome {
  readonly key: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  readonly code?: string;
  readonly value?: number;
  readonly replayed?: boolean;
  /** The answer said when to retry (every refusal of a keyed trigger does). */
  readonly retryAfter?: number;
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
    const keys: string[] = [];
    const running = new Set<Promise<void>>();
    let stop = false;
    let sent = 0;
    /** Sends one increment until it is answered, its refusals retried with the same key. */
    const increment = async (key: string): Promise<void> => {
      for (let attempt = 0; ; attempt += 1) {
        const kernel = kernels[(sent + attempt) % kernels.length]!;
        const startedAt = Date.now();
        const answer = await kernel.attempt(panel.id, 'increment', { by: 1 }, key).then(
          (response) => response,
          () => undefined,
        );
        const body = answer?.body;
        const code = body?.error?.code;
        const retryAfter = answer?.headers.get('retry-after');
        outcomes.push({
          key,
          startedAt,
          endedAt: Date.now(),
          status: answer?.status ?? 0,
          ...(code === undefined ? {} : { code }),
          ...(answer?.status === 200 && body?.status === 'success'
            ? { value: body.returnValue as number, replayed: body.replayed === true }
            : {}),
          ...(retryAfter == null ? {} : { retryAfter: Number(retryAfter) }),
        });
        if (answer?.status === 200) return;
        // A refusal without Retry-After is not the store's trouble: nothing to retry.
        if (answer !== undefined && retryAfter == null) return;
        if (Date.now() - startedAt > RECOVERY_LIMIT_MS) return;
        await sleep(Math.min(1000, 1000 * Number(retryAfter ?? 1)));
      }
    };
    const stream = (async () => {
      while (!stop) {
        if (running.size < MAX_IN_FLIGHT) {
          const key = `e2e-${panel.id}-${sent}`;
          keys.push(key);
          sent += 1;
          const done = increment(key);
          running.add(done);
          void done.finally(() => running.delete(done));
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
      () =>
        Promise.resolve(
          outcomes.find((o) => o.startedAt > killedAt && o.value !== undefined && !o.replayed)?.endedAt,
        ),
      { intervalMs: 100 },
    );
    await sleep(AFTER_MS);
    stop = true;
    await stream;
    await Promise.all([...running]);

    const answered = new Map(outcomes.filter((o) => o.value !== undefined).map((o) => [o.key, o]));
    const refused = outcomes.filter((o) => o.status !== 200);
    const final = (await kernels[0]!.panel(panel.id)).state.count as number;
    const replays = [...answered.values()].filter((o) => o.replayed).length;
    const unconfirmed = refused.filter((o) => o.code === 'COMMIT_UNCONFIRMED').length;
    info(
      `${keys.length} increments in ${outcomes.length} attempts: ${refused.length} refusals retried ` +
        `(${unconfirmed} of them 504 COMMIT_UNCONFIRMED), ${replays} answered from their record; the count is ${final}`,
    );
    const refusedAfter = refused.filter((o) => o.startedAt >= killedAt);
    info(
      `served again ${((servedAgain - killedAt) / 1000).toFixed(1)} s after the kill` +
        (refusedAfter.length > 0
          ? `; refusals from ${((refusedAfter[0]!.endedAt - killedAt) / 1000).toFixed(1)} s to ${((refusedAfter.at(-1)!.endedAt - killedAt) / 1000).toFixed(1)} s`
          : '; nothing was refused'),
    );
    checkEqual(
      keys.filter((key) => !answered.has(key)),
      [],
      'every increment was answered, its refusals retried with its key',
    );
    checkEqual(
      refused.filter((o) => o.retryAfter === undefined).map((o) => `${o.status} ${o.code ?? ''}`),
      [],
      'every refusal of a keyed increment said when to retry',
    );
    // Exactly once: none lost, none applied twice however often it was sent.
    checkEqual(final, keys.length, 'the count is the number of increments: each applied exactly once');
    const values = [...answered.values()].map((o) => o.value!).sort((a, b) => a - b);
    checkEqual(new Set(values).size, values.length, 'no two increments saw the same count');
    check(values.at(-1) === final, 'the last increment saw the final count', { last: values.at(-1), final });

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
