// The operator under failure: killed mid-way and restarted, and the API server restarted under it.
// Either way it must converge on the latest spec without help.
import { componentPid, startCluster } from './harness/cluster.js';
import { configMapOf, deploymentOf, templateHash } from './harness/children.js';
import { eventually, sleep } from './harness/eventually.js';
import { OperatorProcess, TEST_LEASE } from './harness/operator-process.js';
import { useSuite, waitReady } from './harness/suite.js';

const suite = useSuite('resilience');

/** Ready at the latest generation, with the ConfigMap and pod template carrying `memoryLimitMB`. */
async function converged(name: string, memoryLimitMB: number): Promise<void> {
  const runtime = await waitReady(suite, name, { timeoutMs: 120_000 });
  const configMap = await configMapOf(suite, name);
  expect(configMap?.data?.MEMORY_LIMIT_MB).toBe(String(memoryLimitMB));
  const deployment = await deploymentOf(suite, name);
  expect(deployment && templateHash(deployment, runtime)).toBe(runtime.status?.configHash);
}

describe('resilience', () => {
  test('an operator killed mid-way and restarted converges', async () => {
    const first = await OperatorProcess.start(suite.cluster.state, { identity: 'resilience-a' });
    const names = ['crash-1', 'crash-2', 'crash-3'];
    await Promise.all(names.map((name) => suite.cluster.createRuntime(suite.namespace, name, {})));
    // Kill it as soon as it has started on the first one: the rest is half-done or not begun.
    await eventually('the operator to create a first Deployment', () => deploymentOf(suite, 'crash-1'), {
      intervalMs: 100,
    });
    await first.kill();

    // While no operator runs, the specs move on.
    await Promise.all(
      names.map((name) =>
        suite.cluster.patchRuntimeSpec(suite.namespace, name, { runtime: { memoryLimitMB: 48 } }),
      ),
    );
    // A new identity must wait for the dead holder's lease to expire, as a new pod would.
    await OperatorProcess.start(suite.cluster.state, { identity: 'resilience-b' });
    for (const name of names) await converged(name, 48);
  });

  test('the API server restarted under the operator: watches resume and it converges', async () => {
    const state = suite.cluster.state;
    await waitReady(suite, 'crash-1');
    const apiserver = componentPid(state.runDir, 'kube-apiserver');
    process.kill(apiserver, 'SIGKILL');
    await eventually('the API server process to be gone', () => {
      try {
        process.kill(apiserver, 0);
        return false;
      } catch {
        return true;
      }
    });
    // Long enough for the operator's watches and lease renewals to fail at least once.
    await sleep((TEST_LEASE.renewDeadlineSeconds + 1) * 1000);
    startCluster(state.runDir);

    await eventually('the API server to serve NexusRuntimes again', () =>
      suite.cluster.getRuntime(suite.namespace, 'crash-1'),
    );
    // A change made after the restart only reaches the pods if the operator watches again.
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'crash-1', { runtime: { memoryLimitMB: 40 } });
    await suite.cluster.createRuntime(suite.namespace, 'after-restart', {});
    await converged('crash-1', 40);
    await converged('after-restart', 32);
  });
});
