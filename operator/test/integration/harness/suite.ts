// Per-file set-up shared by the cluster tests: a namespace of the file's own (deleted afterwards),
// the cluster clients, and cleanup of any operator process the file started.
import { harnessState } from './cluster.js';
import { eventually, type EventuallyOptions } from './eventually.js';
import { Cluster, describeStatus, isReadyAtGeneration, type NexusRuntime } from './kube.js';
import { stopAllOperators } from './operator-process.js';

export interface Suite {
  readonly cluster: Cluster;
  readonly namespace: string;
}

/** Registers beforeAll/afterAll hooks; the returned object is usable inside tests and hooks. */
export function useSuite(name: string): Suite {
  const namespace = `it-${name}-${Date.now().toString(36)}`;
  const suite = { namespace } as { cluster: Cluster; namespace: string };
  beforeAll(async () => {
    suite.cluster = new Cluster(harnessState());
    await suite.cluster.createNamespace(namespace);
  });
  afterAll(async () => {
    await stopAllOperators();
    await suite.cluster?.deleteNamespace(namespace);
  });
  return suite;
}

/** Waits for Ready=True at the runtime's current generation and returns the runtime. */
export async function waitReady(
  suite: Suite,
  name: string,
  options: EventuallyOptions = { timeoutMs: 90_000 },
): Promise<NexusRuntime> {
  return waitRuntime(suite, name, 'Ready at its current generation', isReadyAtGeneration, options);
}

/** Waits until `check` accepts the runtime (re-read every poll) and returns it. */
export async function waitRuntime(
  suite: Suite,
  name: string,
  what: string,
  check: (runtime: NexusRuntime) => boolean,
  options: EventuallyOptions = { timeoutMs: 90_000 },
): Promise<NexusRuntime> {
  return eventually(
    `NexusRuntime ${suite.namespace}/${name}: ${what}`,
    async () => {
      const runtime = await suite.cluster.getRuntime(suite.namespace, name);
      if (check(runtime)) return runtime;
      throw new Error(describeStatus(runtime));
    },
    options,
  );
}
