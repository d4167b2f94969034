// The HPA: created with the 80% memory target, removed when autoscaling is off or the runtime is
// suspended, and a replica count it sets is never fought by the operator.
import { deploymentOf, eventOn, hpaOf, rolledOut } from './harness/children.js';
import { consistently, eventually } from './harness/eventually.js';
import { OperatorProcess } from './harness/operator-process.js';
import { useSuite, waitReady, waitRuntime } from './harness/suite.js';
import { isReadyAtGeneration } from './harness/kube.js';

const suite = useSuite('autoscaling');

describe('autoscaling', () => {
  beforeAll(async () => {
    await OperatorProcess.start(suite.cluster.state, { identity: 'autoscaling' });
  });

  test('an HPA on the Deployment targets 80% average memory and 80% average CPU utilization by default', async () => {
    await suite.cluster.createRuntime(suite.namespace, 'hpa', {});
    await waitReady(suite, 'hpa');
    const hpa = await eventually('the HPA', () => hpaOf(suite, 'hpa'));
    expect(hpa.spec?.scaleTargetRef).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'hpa',
    });
    expect(hpa.spec?.minReplicas).toBe(1);
    expect(hpa.spec?.maxReplicas).toBe(10);
    const memory = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'memory');
    expect(memory?.resource?.target).toMatchObject({ type: 'Utilization', averageUtilization: 80 });
    const cpu = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    expect(cpu?.resource?.target).toMatchObject({ type: 'Utilization', averageUtilization: 80 });
  });

  test('turning autoscaling off removes the HPA and sets spec.replicas on the Deployment', async () => {
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'hpa', {
      autoscaling: { enabled: false },
      replicas: 2,
    });
    await eventually('the HPA to be deleted', async () => (await hpaOf(suite, 'hpa')) === undefined);
    expect(await eventOn(suite, 'hpa', 'Deleted')).toMatch(/HorizontalPodAutoscaler/);
    await eventually('two ready replicas', async () => {
      const deployment = await deploymentOf(suite, 'hpa');
      return deployment?.spec?.replicas === 2 && rolledOut(deployment);
    });
    await waitReady(suite, 'hpa');
  });

  test('a replica count set by the HPA is left alone', async () => {
    // With no metrics source the HPA controller still enforces minReplicas: it scales the
    // Deployment from the 1 replica the Deployment starts with to 3, and the operator must keep out.
    await suite.cluster.createRuntime(suite.namespace, 'hpa-owned', {
      replicas: 1,
      autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 5 },
    });
    await eventually(
      'the HPA controller to scale the Deployment to 3',
      async () => {
        const deployment = await deploymentOf(suite, 'hpa-owned');
        return deployment?.spec?.replicas === 3 && rolledOut(deployment);
      },
      { timeoutMs: 120_000 },
    );
    const deployment = await deploymentOf(suite, 'hpa-owned');
    const operatorFields = (deployment?.metadata?.managedFields ?? [])
      .filter((entry) => entry.manager === 'nexus-operator')
      .map((entry) => JSON.stringify(entry.fieldsV1 ?? {}));
    expect(operatorFields.length).toBeGreaterThan(0);
    expect(operatorFields.join()).not.toMatch(/"f:replicas"/);

    // A spec change makes the operator re-apply the Deployment: the count still stays the HPA's.
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'hpa-owned', { server: { logLevel: 'debug' } });
    await waitRuntime(suite, 'hpa-owned', 'reconciled with Ready', isReadyAtGeneration, {
      timeoutMs: 120_000,
    });
    await consistently(
      'the Deployment to keep the 3 replicas the HPA set',
      async () => (await deploymentOf(suite, 'hpa-owned'))?.spec?.replicas === 3,
      5_000,
    );
  });

  test('suspend scales to zero and removes the HPA; resuming brings both back', async () => {
    await suite.cluster.patchRuntimeSpec(suite.namespace, 'hpa-owned', { suspend: true });
    await eventually('the HPA to be deleted', async () => (await hpaOf(suite, 'hpa-owned')) === undefined);
    await eventually('zero replicas', async () => {
      const deployment = await deploymentOf(suite, 'hpa-owned');
      return deployment?.spec?.replicas === 0 && (deployment.status?.replicas ?? 0) === 0;
    });
    // Suspension deletes nothing else.
    await expect(
      suite.cluster.core.readNamespacedConfigMap({ namespace: suite.namespace, name: 'hpa-owned-config' }),
    ).resolves.toBeDefined();
    await expect(
      suite.cluster.core.readNamespacedService({ namespace: suite.namespace, name: 'hpa-owned' }),
    ).resolves.toBeDefined();
    await waitRuntime(
      suite,
      'hpa-owned',
      'reconciled while suspended',
      (r) => r.status?.observedGeneration === r.metadata.generation,
    );

    await suite.cluster.patchRuntimeSpec(suite.namespace, 'hpa-owned', { suspend: false });
    await eventually('the HPA to come back', () => hpaOf(suite, 'hpa-owned'));
    await eventually(
      'three replicas again',
      async () => {
        const deployment = await deploymentOf(suite, 'hpa-owned');
        return (deployment?.spec?.replicas ?? 0) >= 3 && rolledOut(deployment);
      },
      { timeoutMs: 120_000 },
    );
    await waitReady(suite, 'hpa-owned');
  });
});
