// Step 1: install as a user does. kubectl apply -k config/default; the operator's pods Ready, from
// its image, under its ServiceAccount; kubectl apply the sample; kubectl wait for Ready.
import { join } from 'node:path';
import { isReady, type Pod } from '../cluster.js';
import { check, checkEqual, info, step } from '../report.js';
import { NAMESPACE, SAMPLE, readyKernelPods, waitReady, type Suite } from '../suite.js';

export async function install(suite: Suite): Promise<void> {
  const { kubectl } = suite;
  step('1/6 kubectl apply -k config/default; the operator in the cluster; kubectl apply the sample; Ready');
  info(
    (await kubectl.run(['apply', '-k', join(suite.root, 'config/default')])).trim().split('\n').length +
      ' objects applied',
  );
  await kubectl.run(['wait', '--for=condition=Established', '--timeout=60s', 'crd/nexusruntimes.nexus.dev']);
  await kubectl.run([
    '-n',
    'nexus-system',
    'rollout',
    'status',
    'deployment/nexus-operator',
    '--timeout=180s',
  ]);
  const operators = (await kubectl.pods('nexus-system', 'app.kubernetes.io/name=nexus-operator')).filter(
    isReady,
  );
  check(operators.length > 0, 'the operator runs as Ready pods in nexus-system', operators.length);
  const operator: Pod = operators[0]!;
  checkEqual(operator.spec.serviceAccountName, 'nexus-operator', 'under its own ServiceAccount');
  check(
    operator.spec.containers[0]!.image.startsWith('localhost/nexus/operator:'),
    'from its image',
    operator.spec.containers[0]!.image,
  );

  await kubectl.run(['create', 'namespace', NAMESPACE]);
  await kubectl.run(['-n', NAMESPACE, 'apply', '-f', join(suite.root, 'config/samples/nexusruntime.yaml')]);
  await kubectl.run([
    '-n',
    NAMESPACE,
    'wait',
    `nexusruntime/${SAMPLE}`,
    '--for=condition=Ready',
    '--timeout=300s',
  ]);
  await waitReady(suite, SAMPLE, 60_000);
  check(true, `kubectl wait --for=condition=Ready nexusruntime/${SAMPLE}`);
  const [pod] = await readyKernelPods(suite, SAMPLE, 1, 60_000);
  check(
    pod!.spec.nodeName === 'nexus-node',
    'its kernel pod is a real container on the node',
    pod!.spec.nodeName,
  );
}
