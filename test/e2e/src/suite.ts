// What the steps share: the cluster, the namespace they work in, the HTTP target, the panels the
// earlier steps left for the later ones, and helpers that wait the way a user would.
import { condition, kernelSelector, isReady, type Condition, type Kubectl, type Pod } from './cluster.js';
import type { HttpTarget } from './http-target.js';
import { KernelClient } from './kernel-client.js';
import { portForward, type Forward } from './port-forward.js';
import { eventually, info } from './report.js';

export const NAMESPACE = 'nexus-e2e';
/** The sample every step works with: config/samples/nexusruntime.yaml. */
export const SAMPLE = 'demo';

export interface Suite {
  readonly kubectl: Kubectl;
  readonly root: string;
  readonly target: HttpTarget;
  /** Panels created by one step and checked by a later one. */
  readonly panels: Map<string, string>;
  readonly forwards: Forward[];
}

/** A port-forward (closed when the suite ends) and a client over it. */
export async function connect(suite: Suite, target: string): Promise<KernelClient> {
  const forward = await portForward(suite.kubectl, NAMESPACE, target);
  suite.forwards.push(forward);
  return new KernelClient(forward.http, forward.ws);
}

export function closeForwards(suite: Suite): void {
  suite.forwards.splice(0).forEach((forward) => forward.close());
}

/**
 * Waits until the NexusRuntime is Ready for its current generation and no longer Progressing (every
 * pod runs the current configuration), as `kubectl wait` on both conditions would.
 */
export async function waitReady(suite: Suite, name: string, timeoutMs: number): Promise<void> {
  await eventually(
    `NexusRuntime ${name} Ready and rolled out at its current generation`,
    timeoutMs,
    async () => {
      const runtime = await suite.kubectl.runtime(NAMESPACE, name);
      const current = runtime.status?.observedGeneration === runtime.metadata.generation;
      const ready = condition(runtime, 'Ready')?.status === 'True';
      const rolling = condition(runtime, 'Progressing')?.status === 'True';
      return current && ready && !rolling ? runtime : undefined;
    },
  );
}

/** The runtime's kernel pods that are Ready and not terminating, waiting until there are `count`. */
export async function readyKernelPods(
  suite: Suite,
  name: string,
  count: number,
  timeoutMs: number,
): Promise<Pod[]> {
  return eventually(`${count} Ready kernel pods of ${name}`, timeoutMs, async () => {
    const pods = await suite.kubectl.pods(NAMESPACE, kernelSelector(name));
    const ready = pods.filter(
      (pod) => isReady(pod) && !(pod.metadata as { deletionTimestamp?: string }).deletionTimestamp,
    );
    return ready.length === count && pods.length === count ? ready : undefined;
  });
}

/** Waits until the runtime reports Degraded=True for `generation`; returns the condition. */
export async function eventuallyDegraded(suite: Suite, name: string, generation: number): Promise<Condition> {
  return eventually(`NexusRuntime ${name} Degraded at generation ${generation}`, 60_000, async () => {
    const degraded = condition(await suite.kubectl.runtime(NAMESPACE, name), 'Degraded');
    return degraded?.status === 'True' && degraded.observedGeneration === generation ? degraded : undefined;
  });
}

/** Prints the HPA as `kubectl get hpa` shows it. */
export async function printHpa(suite: Suite, name: string): Promise<void> {
  const text = await suite.kubectl
    .run(['-n', NAMESPACE, 'get', 'hpa', name, '--no-headers'])
    .catch((e: Error) => e.message);
  info(`hpa: ${text.trim()}`);
}
