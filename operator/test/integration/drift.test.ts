// Drift and garbage collection: owned objects deleted or edited by someone else are restored,
// and deleting the NexusRuntime lets the garbage collector remove everything it owned.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

import { configMapOf, deploymentOf, eventOn, hpaOf, rolledOut } from './harness/children.js';
import { eventually } from './harness/eventually.js';
import { ignoreNotFound } from './harness/kube.js';
import { OperatorProcess } from './harness/operator-process.js';
import { useSuite, waitReady } from './harness/suite.js';

const suite = useSuite('drift');

describe('drift repair and garbage collection', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'drift' });
    await suite.cluster.createRuntime(suite.namespace, 'drift', {
      autoscaling: { enabled: false },
      replicas: 2,
    });
    await waitReady(suite, 'drift');
  });

  test('a deleted Deployment is recreated', async () => {
    const before = await deploymentOf(suite, 'drift');
    await suite.cluster.apps.deleteNamespacedDeployment({ namespace: suite.namespace, name: 'drift' });
    const after = await eventually('a new Deployment', async () => {
      const deployment = await deploymentOf(suite, 'drift');
      return deployment &&
        deployment.metadata?.uid !== before?.metadata?.uid &&
        !deployment.metadata?.deletionTimestamp
        ? deployment
        : undefined;
    });
    expect(after.spec?.template.spec?.containers[0]?.image).toBe(
      before?.spec?.template.spec?.containers[0]?.image,
    );
    await eventually('the new Deployment to roll out', async () =>
      rolledOut(await deploymentOf(suite, 'drift')),
    );
    expect(await eventOn(suite, 'drift', 'Restored')).toMatch(/Deployment drift/);
    await waitReady(suite, 'drift');
  });

  test('an edited pod template is restored', async () => {
    const before = await deploymentOf(suite, 'drift');
    const image = before?.spec?.template.spec?.containers[0]?.image;
    const container = before?.spec?.template.spec?.containers[0]?.name;
    expect(image).toBeDefined();
    await suite.cluster.apps.patchNamespacedDeployment(
      {
        namespace: suite.namespace,
        name: 'drift',
        body: {
          spec: {
            template: { spec: { containers: [{ name: container, image: 'example.invalid/tampered:1' }] } },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await eventually('the operator to restore the image', async () => {
      const deployment = await deploymentOf(suite, 'drift');
      return deployment?.spec?.template.spec?.containers[0]?.image === image;
    });
  });

  test('a deleted ConfigMap is recreated with the same data', async () => {
    const before = await configMapOf(suite, 'drift');
    await suite.cluster.core.deleteNamespacedConfigMap({ namespace: suite.namespace, name: 'drift-config' });
    const after = await eventually('a new ConfigMap', async () => {
      const configMap = await configMapOf(suite, 'drift');
      return configMap && configMap.metadata?.uid !== before?.metadata?.uid ? configMap : undefined;
    });
    expect(after.data).toEqual(before?.data);
  });

  test('deleting the NexusRuntime garbage-collects everything it owned', async () => {
    await suite.cluster.deleteRuntime(suite.namespace, 'drift');
    const ns = suite.namespace;
    await eventually(
      'the owned objects to be gone',
      async () => {
        const left = [
          await configMapOf(suite, 'drift'),
          await deploymentOf(suite, 'drift'),
          await hpaOf(suite, 'drift'),
          await ignoreNotFound(suite.cluster.core.readNamespacedService({ namespace: ns, name: 'drift' })),
          await ignoreNotFound(
            suite.cluster.policy.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'drift' }),
          ),
        ].filter((object) => object !== undefined);
        const pods = await suite.cluster.core.listNamespacedPod({
          namespace: ns,
          labelSelector: 'app.kubernetes.io/instance=drift',
        });
        if (left.length > 0 || pods.items.length > 0) {
          throw new Error(`${left.length} owned objects and ${pods.items.length} pods left`);
        }
        return true;
      },
      { timeoutMs: 90_000 },
    );
  });
});
